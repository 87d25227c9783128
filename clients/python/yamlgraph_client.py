"""Client for the yamlgraph-c wire protocol, version 1 (docs/protocol.md).

Needs pyzmq and msgpack (Debian: python3-zmq python3-msgpack); the rest is
the standard library.

    from yamlgraph_client import Client, YamlGraphError

    with Client("tcp://127.0.0.1:5555") as c:
        r = c.run("interview", {}, thread="t-1")
        if r.status == "interrupted":
            print(r.interrupts[0]["value"])
            r = c.resume("interview", "t-1", "Ada")
        for item in c.stream("hello", {"name": "Bo", "style": "dry"}):
            print(item)            # events (dicts), then the Result

`AsyncClient` has the same methods as coroutines (stream is an async
generator) and lets many requests share one connection concurrently.

Errors (a protocol error, an unknown graph, a run that ended in error, a
timeout) raise YamlGraphError(code, name, message); `err.reply` holds the
server's reply when there was one.
"""

import asyncio
import itertools
import os
import time

import msgpack
import zmq
import zmq.asyncio

PROTOCOL_VERSION = 1
DEFAULT_TIMEOUT = 60.0

# Error codes of include/yamlgraph/yg_error.h (docs/protocol.md, "Errors").
ERROR_NAMES = {
    -1: "YG_ENOMEM", -2: "YG_EINVAL", -3: "YG_EPARSE", -4: "YG_ELIMIT",
    -5: "YG_ENOTFOUND", -6: "YG_EIO", -7: "YG_EVALIDATE", -8: "YG_ETYPE",
    -9: "YG_ETEMPLATE", -10: "YG_EEXPR", -11: "YG_ESTATE", -12: "YG_ETIMEOUT",
    -13: "YG_ECANCELLED", -14: "YG_EPROTO", -15: "YG_ELLM", -16: "YG_EUNSUPPORTED",
    -17: "YG_ECONCURRENT", -18: "YG_ESTEPLIMIT", -19: "YG_EBUSY", -20: "YG_ETOOL",
    -21: "YG_ESCHEMA", -22: "YG_ECLOSED",
}
YG_ETIMEOUT = -12
YG_EPROTO = -14


class YamlGraphError(Exception):
    """An error reply, a run that ended in error, or a client-side timeout."""

    def __init__(self, code, name, message, reply=None):
        super().__init__("%s (%d): %s" % (name, code, message))
        self.code = code
        self.name = name
        self.message = message
        self.reply = reply


class Result:
    """The outcome of run / resume / stream: status "completed" or
    "interrupted" (errors raise), thread, run id, last step, state and
    pending interrupts [{id, node, value}].  `raw` is the reply map."""

    def __init__(self, reply):
        self.raw = reply
        self.status = reply.get("status")
        self.thread = reply.get("thread")
        self.run = reply.get("run")
        self.step = reply.get("step")
        self.state = reply.get("state") or {}
        self.interrupts = reply.get("interrupts") or []

    @property
    def interrupted(self):
        return self.status == "interrupted"

    def __repr__(self):
        return "Result(status=%r, thread=%r, state=%r, interrupts=%r)" % (
            self.status, self.thread, self.state, self.interrupts)


def _error_from(reply):
    e = reply.get("error") or {}
    code = e.get("code", YG_EPROTO)
    return YamlGraphError(code, e.get("name") or ERROR_NAMES.get(code, "YG_EPROTO"),
                          e.get("message", "unknown error"), reply)


def _check_final(reply):
    """Raise for error replies and failed runs; return the reply otherwise."""
    if reply.get("type") == "error" or reply.get("status") == "error":
        raise _error_from(reply)
    return reply


def _timeout_error(what, timeout):
    return YamlGraphError(YG_ETIMEOUT, "YG_ETIMEOUT",
                          "no reply to %s within %.1f s" % (what, timeout))


def _fields(**kw):
    return {k: v for k, v in kw.items() if v is not None}


def _run_fields(graph, thread, input=None, step_limit=None, force=None):
    return _fields(graph=graph, thread=thread, input=input, step_limit=step_limit,
                   force=True if force else None)


class _Base:
    def __init__(self, endpoint, timeout):
        self.endpoint = endpoint
        self.timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        # ids unique per connection; the prefix keeps them readable in logs
        self._ids = itertools.count(1)
        self._prefix = "%x-" % os.getpid()

    def _new_request(self, rtype, fields):
        rid = self._prefix + str(next(self._ids))
        msg = {"v": PROTOCOL_VERSION, "id": rid, "type": rtype}
        msg.update(fields)
        return rid, msgpack.packb(msg, use_bin_type=True)


class Client(_Base):
    """Blocking client over one DEALER socket.  Not thread-safe: use one
    Client per thread (or AsyncClient for concurrency)."""

    def __init__(self, endpoint, timeout=DEFAULT_TIMEOUT, context=None):
        super().__init__(endpoint, timeout)
        self._ctx = context or zmq.Context.instance()
        self._sock = self._ctx.socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.connect(endpoint)

    def close(self):
        if self._sock is not None:
            self._sock.close(0)
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- transport --------------------------------------------------------

    def _messages(self, rtype, fields, timeout):
        """Send one request; yield its replies (events, then the final one).
        Replies to other (abandoned) requests are skipped."""
        rid, frame = self._new_request(rtype, fields)
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        self._sock.send(frame)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._sock.poll(int(left * 1000) + 1):
                raise _timeout_error(rtype, timeout)
            reply = msgpack.unpackb(self._sock.recv(), raw=False, unicode_errors="replace")
            if not isinstance(reply, dict) or reply.get("id") != rid:
                continue
            yield reply
            if reply.get("type") != "event":
                return

    def _call(self, rtype, fields, timeout=None):
        for reply in self._messages(rtype, fields, timeout):
            if reply.get("type") != "event":
                return _check_final(reply)
        raise YamlGraphError(YG_EPROTO, "YG_EPROTO", "no final reply")

    # -- requests ---------------------------------------------------------

    def run(self, graph, input=None, thread=None, timeout=None, step_limit=None, force=False):
        """Run graph until it completes or pauses at an interrupt."""
        return Result(self._call("run", _run_fields(graph, thread, input or {}, step_limit,
                                                    force), timeout))

    def resume(self, graph, thread, value, timeout=None, step_limit=None, force=False):
        """Resume a paused thread with a value (or {interrupt id: value})."""
        f = _run_fields(graph, thread, None, step_limit, force)
        f["value"] = value
        return Result(self._call("resume", f, timeout))

    def stream(self, graph, input=None, thread=None, timeout=None, resume=False, value=None,
               step_limit=None, force=False):
        """Generator: the run's events (dicts with kind, seq, ...) in order,
        then its Result.  resume=True resumes `thread` with `value`."""
        f = _run_fields(graph, thread, None if resume else (input or {}), step_limit, force)
        if resume:
            f["resume"] = True
            f["value"] = value
        for reply in self._messages("stream", f, timeout):
            if reply.get("type") == "event":
                yield reply
            else:
                yield Result(_check_final(reply))

    def state(self, thread, graph=None, timeout=None):
        """The thread's latest checkpoint: {thread, step, state, interrupts, snapshot}."""
        return self._call("state", _fields(thread=thread, graph=graph), timeout)

    def history(self, thread, graph=None, limit=None, timeout=None):
        """The thread's checkpoints, newest first."""
        return self._call("history", _fields(thread=thread, graph=graph, limit=limit),
                          timeout)["history"]

    def cancel(self, thread, timeout=None):
        """Cancel the active run of a thread (started by any client).  True
        when a run was cancelled; YamlGraphError YG_ENOTFOUND when there was
        none.  The run's own request then fails with YG_ECANCELLED."""
        self._call("cancel", {"thread": thread}, timeout)
        return True

    def graphs(self, timeout=None):
        """The graphs the server lists: [{name, path, hash, description, version, nodes}]."""
        return self._call("graphs", {}, timeout)["graphs"]

    def ping(self, timeout=None):
        """{protocol, server, server_version} of the server."""
        return self._call("ping", {}, timeout)


class AsyncClient(_Base):
    """asyncio client over one zmq.asyncio DEALER socket: any number of
    requests in flight at once; a reader task routes replies by id."""

    def __init__(self, endpoint, timeout=DEFAULT_TIMEOUT, context=None):
        super().__init__(endpoint, timeout)
        self._ctx = context or zmq.asyncio.Context.instance()
        self._sock = self._ctx.socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.connect(endpoint)
        self._queues = {}
        self._reader = None

    async def close(self):
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass
            self._reader = None
        if self._sock is not None:
            self._sock.close(0)
            self._sock = None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def _read_loop(self):
        while True:
            frame = await self._sock.recv()
            try:
                reply = msgpack.unpackb(frame, raw=False, unicode_errors="replace")
            except Exception:
                continue
            if isinstance(reply, dict):
                q = self._queues.get(reply.get("id"))
                if q is not None:
                    q.put_nowait(reply)

    async def _messages(self, rtype, fields, timeout):
        if self._reader is None or self._reader.done():
            self._reader = asyncio.ensure_future(self._read_loop())
        rid, frame = self._new_request(rtype, fields)
        timeout = self.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        q = asyncio.Queue()
        self._queues[rid] = q
        try:
            await self._sock.send(frame)
            while True:
                left = deadline - loop.time()
                if left <= 0:
                    raise _timeout_error(rtype, timeout)
                try:
                    reply = await asyncio.wait_for(q.get(), left)
                except asyncio.TimeoutError:
                    raise _timeout_error(rtype, timeout) from None
                yield reply
                if reply.get("type") != "event":
                    return
        finally:
            self._queues.pop(rid, None)

    async def _call(self, rtype, fields, timeout=None):
        async for reply in self._messages(rtype, fields, timeout):
            if reply.get("type") != "event":
                return _check_final(reply)
        raise YamlGraphError(YG_EPROTO, "YG_EPROTO", "no final reply")

    async def run(self, graph, input=None, thread=None, timeout=None, step_limit=None,
                  force=False):
        return Result(await self._call("run", _run_fields(graph, thread, input or {},
                                                          step_limit, force), timeout))

    async def resume(self, graph, thread, value, timeout=None, step_limit=None, force=False):
        f = _run_fields(graph, thread, None, step_limit, force)
        f["value"] = value
        return Result(await self._call("resume", f, timeout))

    async def stream(self, graph, input=None, thread=None, timeout=None, resume=False,
                     value=None, step_limit=None, force=False):
        f = _run_fields(graph, thread, None if resume else (input or {}), step_limit, force)
        if resume:
            f["resume"] = True
            f["value"] = value
        async for reply in self._messages("stream", f, timeout):
            if reply.get("type") == "event":
                yield reply
            else:
                yield Result(_check_final(reply))

    async def state(self, thread, graph=None, timeout=None):
        return await self._call("state", _fields(thread=thread, graph=graph), timeout)

    async def history(self, thread, graph=None, limit=None, timeout=None):
        reply = await self._call("history", _fields(thread=thread, graph=graph, limit=limit),
                                 timeout)
        return reply["history"]

    async def cancel(self, thread, timeout=None):
        await self._call("cancel", {"thread": thread}, timeout)
        return True

    async def graphs(self, timeout=None):
        return (await self._call("graphs", {}, timeout))["graphs"]

    async def ping(self, timeout=None):
        return await self._call("ping", {}, timeout)
