#!/usr/bin/env bash
# gateway_test.sh - `yamlgraph serve` end to end: start it on 127.0.0.1 with
# an ephemeral port, read the port from its output, drive it from a tiny
# pyzmq script through ping and run -> interrupt -> resume -> completed,
# then stop it with SIGTERM and check it exits cleanly.
#   usage: tests/gateway_test.sh PATH/TO/yamlgraph
# Needs python3 with zmq and msgpack (scripts/install-deps.sh installs
# python3-zmq and python3-msgpack).  Prints "N passed, M failed" last.
set -u
YG="${1:?usage: gateway_test.sh PATH/TO/yamlgraph}"
YG="$(cd "$(dirname "$YG")" && pwd)/$(basename "$YG")"
SRC="${YG_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
TMP="$(mktemp -d /tmp/yg-gateway-test.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# A python3 that has zmq and msgpack (Debian's, even when another python3
# comes first on PATH).
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

# wait_listening FILE PID: print the endpoint once FILE has 'listening on'.
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

# --- usage errors -----------------------------------------------------------------
"$YG" serve "$SRC/graphs/hello/graph.yaml" >/dev/null 2>"$TMP/err"
[ $? -eq 2 ] && grep -q -- '--bind' "$TMP/err" && ok "serve without --bind is a usage error" \
  || fail "serve without --bind: exit/usage message"
"$YG" serve --bind 'tcp://127.0.0.1:*' >/dev/null 2>&1
[ $? -eq 2 ] && ok "serve without a graph is a usage error" || fail "serve without a graph"
"$YG" serve --help >"$TMP/help" 2>&1 && grep -q 'listening on' "$TMP/help" \
  && ok "serve --help" || fail "serve --help"
"$YG" serve "$SRC/graphs/hello/graph.yaml" --bind 'nonsense://x' >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q 'nonsense://x' "$TMP/err" && ok "bad endpoint: exit 1 with a message" \
  || fail "bad endpoint"
"$YG" serve "$TMP/missing.yaml" --bind 'tcp://127.0.0.1:*' >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q 'missing.yaml' "$TMP/err" && ok "missing graph: exit 1 naming it" \
  || fail "missing graph"

# --- a server on an ephemeral port ----------------------------------------------------
"$YG" serve "$SRC/graphs/interview/graph.yaml" --bind 'tcp://127.0.0.1:*' \
  --checkpointer memory --mock "$SRC/graphs/interview/mock.yaml" \
  >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!
EP="$(wait_listening "$TMP/server.out" "$SERVER_PID")"
if [ -z "$EP" ]; then
  fail "server did not print 'listening on'"; sed 's/^/    /' "$TMP/server.err" | head -5
  finish
fi
case "$EP" in
  tcp://127.0.0.1:*[!0-9]*|*'*') fail "endpoint not resolved: $EP" ;;
  tcp://127.0.0.1:[0-9]*) ok "listening on a real port ($EP)" ;;
  *) fail "unexpected endpoint $EP" ;;
esac

cat >"$TMP/drive.py" <<'EOF'
import sys, zmq, msgpack
ep = sys.argv[1]
sock = zmq.Context.instance().socket(zmq.DEALER)
sock.setsockopt(zmq.LINGER, 0)
sock.connect(ep)

def call(msg):
    msg = dict(v=1, **msg)
    sock.send(msgpack.packb(msg))
    while True:
        if not sock.poll(10000):
            return {"type": "timeout"}
        r = msgpack.unpackb(sock.recv(), raw=False)
        if r.get("type") != "event":
            return r

def check(name, cond, detail=""):
    print(("ok - " if cond else "FAIL - ") + name + ("" if cond else ": %r" % (detail,)))

r = call({"id": "p", "type": "ping"})
check("ping -> pong", r.get("type") == "pong" and r.get("id") == "p" and r.get("protocol") == 1, r)
r = call({"id": 1, "type": "run", "graph": "interview", "thread": "sh-1"})
ok = r.get("status") == "interrupted" and r.get("id") == 1
check("run pauses at the first interrupt", ok, r)
ints = r.get("interrupts") or [{}]
check("first question", ints[0].get("value") == "What's your name?", ints)
r = call({"id": 2, "type": "resume", "graph": "interview", "thread": "sh-1", "value": "Ada"})
ints = r.get("interrupts") or [{}]
check("resume -> second question", r.get("status") == "interrupted"
      and "Ada" in str(ints[0].get("value")), r)
r = call({"id": 3, "type": "resume", "graph": "interview", "thread": "sh-1", "value": "graphs"})
st = r.get("state") or {}
check("resume -> completed", r.get("status") == "completed", r)
check("answer from the mock", str(st.get("answer", "")).startswith("Welcome, Ada!"), st)
check("answers kept", st.get("user_name") == "Ada" and st.get("user_topic") == "graphs", st)
r = call({"id": 4, "type": "state", "thread": "sh-1", "graph": "interview"})
check("state of the thread", (r.get("state") or {}).get("user_topic") == "graphs", r)
r = call({"id": 5, "type": "run", "graph": "no-such"})
check("unknown graph -> error reply", r.get("type") == "error"
      and r.get("error", {}).get("name") == "YG_ENOTFOUND" and r.get("id") == 5, r)
sock.send(b"\xc1")
r = msgpack.unpackb(sock.recv(), raw=False) if sock.poll(10000) else {}
check("garbage frame -> error reply", r.get("type") == "error"
      and r.get("error", {}).get("name") == "YG_EPROTO", r)
EOF
"$PY" "$TMP/drive.py" "$EP" >"$TMP/drive.out" 2>&1
cat "$TMP/drive.out"
p=$(grep -c '^ok - ' "$TMP/drive.out"); f=$(grep -c '^FAIL - ' "$TMP/drive.out")
passed=$((passed + p)); failed=$((failed + f))
[ "$p" -eq 10 ] || fail "driver ran $p of 10 checks (see above)"

# --- clean shutdown on SIGTERM ----------------------------------------------------------
kill -TERM "$SERVER_PID"
for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SERVER_PID" 2>/dev/null; then
  fail "server still running 10 s after SIGTERM"
else
  wait "$SERVER_PID"; rc=$?
  SERVER_PID=""
  [ "$rc" -eq 0 ] && ok "SIGTERM: exit 0" || fail "SIGTERM: exit $rc"
  grep -q 'shutting down' "$TMP/server.err" && ok "SIGTERM: says it is shutting down" \
    || fail "SIGTERM: no shutdown message"
fi
finish
