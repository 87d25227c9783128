#!/usr/bin/env bash
# python_client_test.sh - clients/python against `yamlgraph serve`: the
# blocking and asyncio clients (run, interrupt/resume with the interview
# example, stream, state, history, cancel, error mapping), then the FastAPI
# example under uvicorn on a free loopback port, exercised with urllib.
#   usage: tests/python_client_test.sh PATH/TO/yamlgraph
# Needs python3 with zmq, msgpack, fastapi and uvicorn (scripts/install-deps.sh
# installs python3-zmq python3-msgpack python3-fastapi python3-uvicorn); a
# missing module is a failure, not a skip.  Prints "N passed, M failed" last.
set -u
YG="${1:?usage: python_client_test.sh PATH/TO/yamlgraph}"
YG="$(cd "$(dirname "$YG")" && pwd)/$(basename "$YG")"
SRC="${YG_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
TMP="$(mktemp -d /tmp/yg-pyclient-test.XXXXXX)"
export PYTHONDONTWRITEBYTECODE=1 # keep the source tree clean
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
# count_checks FILE: add the ok/FAIL lines a python script printed.
count_checks() {
  cat "$1"
  passed=$((passed + $(grep -c '^ok - ' "$1")))
  failed=$((failed + $(grep -c '^FAIL - ' "$1")))
  grep -q '^DONE$' "$1" || fail "$(basename "$1" .out) did not finish (see above)"
}

PY=""
for cand in ${PYTHON:-} /usr/bin/python3 python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import zmq, msgpack' 2>/dev/null; then
    PY="$cand"; break
  fi
done
if [ -z "$PY" ]; then
  fail "python3 with zmq and msgpack is required (run scripts/install-deps.sh)"
  finish
fi
if "$PY" -c 'import fastapi, uvicorn' 2>"$TMP/import.err"; then
  HAVE_FASTAPI=1
else
  HAVE_FASTAPI=0
fi

wait_listening() {
  for _ in $(seq 1 100); do
    if grep -q '^listening on ' "$1" 2>/dev/null; then
      sed -n 's/^listening on //p' "$1" | head -1; return 0
    fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# One mock file for both graphs (prompt names do not clash).
cat "$SRC/graphs/interview/mock.yaml" "$SRC/graphs/hello/mock.yaml" >"$TMP/mock.yaml"
"$YG" serve "$SRC/graphs/interview/graph.yaml" "$SRC/graphs/hello/graph.yaml" \
  --bind 'tcp://127.0.0.1:*' --checkpointer memory --mock "$TMP/mock.yaml" \
  >"$TMP/server.out" 2>"$TMP/server.err" &
PIDS+=($!)
EP="$(wait_listening "$TMP/server.out" "${PIDS[0]}")"
if [ -z "$EP" ]; then
  fail "yamlgraph serve did not start"; sed 's/^/    /' "$TMP/server.err" | head -5
  finish
fi
ok "server listening on $EP"

# --- the blocking client ------------------------------------------------------------
cat >"$TMP/sync.py" <<'EOF'
import sys
sys.path.insert(0, sys.argv[2])
from yamlgraph_client import Client, Result, YamlGraphError

def check(name, cond, detail=""):
    print(("ok - " if cond else "FAIL - ") + name + ("" if cond else ": %r" % (detail,)))

def expect_error(name, fn, code_name):
    try:
        fn()
    except YamlGraphError as e:
        check(name, e.name == code_name and e.code < 0 and e.message, (e.code, e.name, e.message))
        return e
    check(name, False, "no exception")

WELCOME = "Welcome, Ada! Graph theory"
with Client(sys.argv[1], timeout=20) as c:
    p = c.ping()
    check("ping", p["type"] == "pong" and p["protocol"] == 1 and p["server_version"], p)
    names = sorted(g["name"] for g in c.graphs())
    check("graphs lists both", names == ["hello", "interview"], names)

    r = c.run("interview", {}, thread="py-1")
    check("run -> interrupted", r.status == "interrupted" and r.interrupted, r)
    check("interrupt payload", r.interrupts and r.interrupts[0]["value"] == "What's your name?"
          and r.interrupts[0]["node"] == "ask_name", r.interrupts)
    r = c.resume("interview", "py-1", "Ada")
    check("resume -> next question", r.status == "interrupted"
          and "Ada" in r.interrupts[0]["value"], r)
    r = c.resume("interview", "py-1", "graphs")
    check("resume -> completed", r.status == "completed" and r.thread == "py-1", r)
    check("final answer", r.state.get("answer", "").startswith(WELCOME), r.state)

    s = c.state("py-1")
    check("state", s["state"]["user_name"] == "Ada" and s["thread"] == "py-1"
          and s["interrupts"] == [], s.get("state"))
    h = c.history("py-1")
    check("history newest first", len(h) >= 3 and h[0]["values"].get("answer", "").startswith(WELCOME), len(h))
    check("history limit", len(c.history("py-1", limit=2)) == 2)

    items = list(c.stream("hello", {"name": "Ada", "style": "warm"}, thread="py-2"))
    events, final = items[:-1], items[-1]
    kinds = [e["kind"] for e in events]
    check("stream ends with the Result", isinstance(final, Result) and final.status == "completed", final)
    check("stream events in order", kinds[0] == "run_start" and kinds[-1] == "run_end"
          and [e["seq"] for e in events] == list(range(1, len(events) + 1)), kinds)
    check("stream node events", "node_start" in kinds and "node_end" in kinds, kinds)
    check("stream state", final.state.get("greeting", "").startswith("Good morning, Ada"), final.state)

    c.run("interview", {}, thread="py-3")
    items = list(c.stream("interview", thread="py-3", resume=True, value="Bo"))
    check("stream resume", items[-1].status == "interrupted"
          and any(e.get("kind") == "interrupt" for e in items[:-1]), items[-1])

    expect_error("unknown graph -> YG_ENOTFOUND", lambda: c.run("nope", {}, thread="x"), "YG_ENOTFOUND")
    expect_error("unknown thread -> YG_ENOTFOUND", lambda: c.state("no-such-thread"), "YG_ENOTFOUND")
    expect_error("no active run -> YG_ENOTFOUND", lambda: c.cancel("py-1"), "YG_ENOTFOUND")
    expect_error("missing thread -> run error YG_EINVAL", lambda: c.run("interview", {}), "YG_EINVAL")
    e = expect_error("bad field type -> YG_ETYPE",
                     lambda: c._call("run", {"graph": "hello", "thread": 7}), "YG_ETYPE")
    check("error keeps the reply", e is not None and e.reply and e.reply["type"] == "error")
    expect_error("timeout -> YG_ETIMEOUT", lambda: c.ping(timeout=0.000001), "YG_ETIMEOUT")
    check("client usable after a timeout", c.ping()["type"] == "pong")
print("DONE")
EOF
"$PY" "$TMP/sync.py" "$EP" "$SRC/clients/python" >"$TMP/sync.out" 2>&1
count_checks "$TMP/sync.out"

# --- the asyncio client -----------------------------------------------------------------
cat >"$TMP/async.py" <<'EOF'
import asyncio, sys
sys.path.insert(0, sys.argv[2])
from yamlgraph_client import AsyncClient, Result, YamlGraphError

def check(name, cond, detail=""):
    print(("ok - " if cond else "FAIL - ") + name + ("" if cond else ": %r" % (detail,)))

async def main():
    async with AsyncClient(sys.argv[1], timeout=20) as c:
        p = await c.ping()
        check("async ping", p["type"] == "pong", p)
        # many requests in flight on one socket
        rs = await asyncio.gather(*[c.run("hello", {"name": "N%d" % i, "style": "dry"},
                                          thread="as-%d" % i) for i in range(8)])
        check("async concurrent runs", all(r.status == "completed" for r in rs)
              and [r.thread for r in rs] == ["as-%d" % i for i in range(8)]
              and [r.state["name"] for r in rs] == ["N%d" % i for i in range(8)], rs)
        r = await c.run("interview", {}, thread="as-iv")
        check("async interrupt", r.status == "interrupted", r)
        r = await c.resume("interview", "as-iv", "Ada")
        r = await c.resume("interview", "as-iv", "graphs")
        check("async resume to completion", r.status == "completed"
              and r.state["answer"].startswith("Welcome, Ada!"), r)
        items = [x async for x in c.stream("hello", {"name": "Cy", "style": "x"}, thread="as-s")]
        check("async stream", isinstance(items[-1], Result) and items[0]["kind"] == "run_start"
              and items[-2]["kind"] == "run_end", [i.get("kind") if isinstance(i, dict) else i for i in items])
        s = await c.state("as-iv")
        check("async state", s["state"]["user_topic"] == "graphs", s)
        h = await c.history("as-iv", limit=1)
        check("async history", len(h) == 1, h)
        g = await c.graphs()
        check("async graphs", {x["name"] for x in g} == {"hello", "interview"}, g)
        try:
            await c.run("nope", {}, thread="t")
            check("async error", False, "no exception")
        except YamlGraphError as e:
            check("async error", e.name == "YG_ENOTFOUND" and e.code == -5, e)
        try:
            await c.cancel("as-nothing")
            check("async cancel error", False, "no exception")
        except YamlGraphError as e:
            check("async cancel error", e.name == "YG_ENOTFOUND", e)

asyncio.run(main())
print("DONE")
EOF
"$PY" "$TMP/async.py" "$EP" "$SRC/clients/python" >"$TMP/async.out" 2>&1
count_checks "$TMP/async.out"

# --- the FastAPI example -------------------------------------------------------------------
if [ "$HAVE_FASTAPI" != 1 ]; then
  fail "the FastAPI example needs python3-fastapi and python3-uvicorn (run scripts/install-deps.sh): $(tail -1 "$TMP/import.err")"
  finish
fi
HTTP_PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
YAMLGRAPH_ENDPOINT="$EP" "$PY" -m uvicorn example_fastapi:app --app-dir "$SRC/clients/python" \
  --host 127.0.0.1 --port "$HTTP_PORT" --log-level warning >"$TMP/uvicorn.out" 2>&1 &
PIDS+=($!)
cat >"$TMP/http_check.py" <<'EOF'
import json, sys, time, urllib.error, urllib.request
base = "http://127.0.0.1:%s" % sys.argv[1]

def check(name, cond, detail=""):
    print(("ok - " if cond else "FAIL - ") + name + ("" if cond else ": %r" % (detail,)))

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")

for _ in range(150):  # uvicorn start-up
    try:
        urllib.request.urlopen(base + "/graphs", timeout=1).read()
        break
    except Exception:
        time.sleep(0.1)

st, g = call("GET", "/graphs")
check("GET /graphs", st == 200 and sorted(x["name"] for x in g) == ["hello", "interview"], (st, g))
st, r = call("POST", "/runs", {"graph": "interview", "thread": "http-1"})
check("POST /runs -> interrupted", st == 200 and r["status"] == "interrupted"
      and r["interrupts"][0]["value"] == "What's your name?", (st, r))
st, r = call("POST", "/runs/http-1/resume", {"graph": "interview", "value": "Ada"})
check("POST resume -> next question", st == 200 and r["status"] == "interrupted", (st, r))
st, r = call("POST", "/runs/http-1/resume", {"graph": "interview", "value": "graphs"})
check("POST resume -> completed", st == 200 and r["status"] == "completed"
      and r["state"]["answer"].startswith("Welcome, Ada!"), (st, r))
st, s = call("GET", "/threads/http-1/state")
check("GET state", st == 200 and s["state"]["user_topic"] == "graphs" and s["thread"] == "http-1", (st, s))
st, e = call("GET", "/threads/nobody/state")
check("unknown thread -> 404", st == 404 and e["detail"]["name"] == "YG_ENOTFOUND", (st, e))
st, e = call("POST", "/runs", {"graph": "nope", "thread": "t"})
check("unknown graph -> 404", st == 404 and e["detail"]["name"] == "YG_ENOTFOUND", (st, e))
st, e = call("POST", "/runs", {"graph": "hello"})
check("run error -> 400", st == 400 and e["detail"]["name"] == "YG_EINVAL", (st, e))
print("DONE")
EOF
"$PY" "$TMP/http_check.py" "$HTTP_PORT" >"$TMP/http_check.out" 2>&1
count_checks "$TMP/http_check.out"
if ! grep -q '^ok - GET /graphs' "$TMP/http_check.out"; then
  sed 's/^/    uvicorn: /' "$TMP/uvicorn.out" | tail -10
fi
finish
