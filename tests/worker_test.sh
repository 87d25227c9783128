#!/usr/bin/env bash
# worker_test.sh - remote workers as real processes on loopback: a
# coordinator (`yamlgraph serve --remote-only --workers ...`) runs no node
# itself; two `yamlgraph worker` processes serve every node; a Python client
# (clients/python/yamlgraph_client.py over pyzmq, docs/protocol.md) runs
# several graphs at once while one worker is killed with SIGKILL: every run
# still completes.  Then: a worker with a changed graph file is rejected
# (exit 1, clear line), a run waits while no worker is connected and
# completes when one arrives, SIGTERM stops workers and the server cleanly,
# a worker reconnects to a restarted coordinator and registers again, and
# deploy/examples/text_tools_worker.c serves a python node with a C function.
#   usage: tests/worker_test.sh PATH/TO/yamlgraph
# Prints "N passed, M failed" last; exits non-zero on failure.
set -u
YG="${1:?usage: worker_test.sh PATH/TO/yamlgraph}"
YG="$(cd "$(dirname "$YG")" && pwd)/$(basename "$YG")"
SRC="${YG_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
TMP="$(mktemp -d /tmp/yg-worker-test.XXXXXX)"
PIDS=""
cleanup() {
  for p in $PIDS; do
    kill -KILL "$p" 2>/dev/null
  done
  for p in $PIDS; do
    wait "$p" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

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
export PYTHONPATH="$SRC/clients/python${PYTHONPATH:+:$PYTHONPATH}"

# wait_line FILE PATTERN PID: print the rest of the first line starting with
# PATTERN once it appears (10 s at most, or until PID exits).
wait_line() {
  for _ in $(seq 1 100); do
    if grep -q "^$2" "$1" 2>/dev/null; then
      sed -n "s/^$2//p" "$1" | head -1; return 0
    fi
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# wait_exit PID SECONDS: the exit status, or 124 if still running after SECONDS.
wait_exit() {
  for _ in $(seq 1 $(( $2 * 10 ))); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1"; return $?
    fi
    sleep 0.1
  done
  return 124
}

# --- usage errors -----------------------------------------------------------------
"$YG" worker "$SRC/graphs/hello/graph.yaml" >/dev/null 2>"$TMP/err"
[ $? -eq 2 ] && grep -q -- '--connect' "$TMP/err" && ok "worker without --connect is a usage error" \
  || fail "worker without --connect"
"$YG" worker --connect tcp://127.0.0.1:1 >/dev/null 2>&1
[ $? -eq 2 ] && ok "worker without a graph is a usage error" || fail "worker without a graph"
"$YG" worker "$SRC/graphs/hello/graph.yaml" --connect tcp://127.0.0.1:1 --heartbeat 1 \
  >/dev/null 2>&1
[ $? -eq 2 ] && ok "worker --heartbeat out of range" || fail "worker --heartbeat 1"
"$YG" worker "$SRC/graphs/hello/graph.yaml" --connect tcp://127.0.0.1:1 --nodes nope \
  >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "no executable node 'nope'" "$TMP/err" && ok "worker --nodes unknown: exit 1" \
  || fail "worker --nodes nope"
"$YG" worker --help >"$TMP/help" 2>&1 && grep -q 'registered with' "$TMP/help" \
  && ok "worker --help" || fail "worker --help"
"$YG" serve "$SRC/graphs/hello/graph.yaml" --bind 'tcp://127.0.0.1:*' --remote-only \
  >/dev/null 2>"$TMP/err"
[ $? -eq 2 ] && grep -q -- '--workers' "$TMP/err" && ok "serve --remote-only needs --workers" \
  || fail "serve --remote-only without --workers"

# --- a coordinator with no local node actors -----------------------------------------
# One reply script for both graphs; every call takes 300 ms, so tasks are in
# flight when a worker is killed.
{ echo "latency_ms: 300"; cat "$SRC/graphs/hello/mock.yaml" "$SRC/graphs/map/mock.yaml"; } \
  >"$TMP/mock.yaml"
GRAPHS="$SRC/graphs/hello/graph.yaml $SRC/graphs/map/graph.yaml"
# shellcheck disable=SC2086
"$YG" serve $GRAPHS --bind 'tcp://127.0.0.1:*' --workers 'tcp://127.0.0.1:*' --remote-only \
  --verbose >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVE=$!
PIDS="$PIDS $SERVE"
EP="$(wait_line "$TMP/serve.out" 'listening on ' "$SERVE")"
WEP="$(wait_line "$TMP/serve.out" 'workers on ' "$SERVE")"
if [ -z "$EP" ] || [ -z "$WEP" ]; then
  fail "serve did not print its endpoints"; sed 's/^/    /' "$TMP/serve.err" | head -5
  finish
fi
case "$WEP" in
  tcp://127.0.0.1:*[!0-9]*|*'*') fail "worker endpoint not resolved: $WEP" ;;
  tcp://127.0.0.1:*) ok "serve prints the worker endpoint ($WEP)" ;;
  *) fail "worker endpoint: $WEP" ;;
esac

start_worker() { # NAME: starts a worker for both graphs, sets WPID
  # shellcheck disable=SC2086
  "$YG" worker $GRAPHS --connect "$WEP" --mock "$TMP/mock.yaml" --id "$1" --heartbeat 200 \
    >"$TMP/$1.out" 2>"$TMP/$1.err" &
  WPID=$!
  PIDS="$PIDS $WPID"
}
start_worker w1; W1=$WPID
start_worker w2; W2=$WPID
if wait_line "$TMP/w1.out" 'registered with ' "$W1" >/dev/null &&
   wait_line "$TMP/w2.out" 'registered with ' "$W2" >/dev/null; then
  ok "two workers registered"
else
  fail "workers did not register"; cat "$TMP/w1.err" "$TMP/w2.err" | head -10
  finish
fi

# --- runs while a worker is killed ------------------------------------------------------
cat >"$TMP/client.py" <<'EOF'
import asyncio, os, signal, sys
from yamlgraph_client import AsyncClient

ep, kill_pid, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
GREETING = "Good morning, Ada - it is a genuine pleasure to make your acquaintance."
SUMMARY = ("Three small projects - flowers, rainwater and compost - make a garden kinder "
           "to wildlife. Each takes a weekend to start.")

async def main():
    async with AsyncClient(ep, timeout=60) as c:
        jobs = []
        for i in range(runs):
            jobs.append(("hello", i, asyncio.ensure_future(
                c.run("hello", {"name": "n%d" % i, "style": "dry"}))))
            jobs.append(("map", i, asyncio.ensure_future(c.run("map", {"topic": "t%d" % i}))))
        if kill_pid > 0:
            await asyncio.sleep(0.45)  # calls take 300 ms: both workers hold tasks now
            os.kill(kill_pid, signal.SIGKILL)
            print("killed", kill_pid, flush=True)
        bad = 0
        for graph, i, fut in jobs:
            try:
                r = await fut
            except Exception as e:
                print("FAIL %s %d: %s" % (graph, i, e)); bad += 1; continue
            s = r.state
            good = r.status == "completed" and (
                s.get("greeting") == GREETING and s.get("name") == "n%d" % i
                if graph == "hello" else
                s.get("summary") == SUMMARY and len(s.get("expansions", [])) == 3
                and s.get("topic") == "t%d" % i)
            if not good:
                print("FAIL %s %d: %s %r" % (graph, i, r.status, s)); bad += 1
        print("completed %d of %d" % (len(jobs) - bad, len(jobs)))
        return bad

sys.exit(1 if asyncio.run(main()) else 0)
EOF
"$PY" "$TMP/client.py" "$EP" "$W1" 4 >"$TMP/client.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^completed 8 of 8' "$TMP/client.out"; then
  ok "8 runs (hello, map) complete while worker w1 is killed with SIGKILL"
else
  fail "runs across a killed worker (rc $rc)"; sed 's/^/    /' "$TMP/client.out" | head -10
fi
wait_exit "$W1" 5 >/dev/null
[ $? -eq 137 ] && ok "w1 died of SIGKILL" || fail "w1 not killed"
if grep -Eq "worker 'w1' \(node '[^']+'\) (is unreachable|missed [0-9]+ heartbeats)[^,]*, [1-9][0-9]* task\(s\) re-dispatched" \
     "$TMP/serve.err"; then
  ok "the coordinator re-dispatched w1's in-flight tasks"
else
  fail "no re-dispatch logged for w1"; sed 's/^/    /' "$TMP/serve.err" | head -10
fi
"$PY" "$TMP/client.py" "$EP" 0 2 >"$TMP/client2.out" 2>&1
[ $? -eq 0 ] && grep -q '^completed 4 of 4' "$TMP/client2.out" \
  && ok "w2 alone serves the next runs" || fail "runs on w2 alone"

# --- a worker whose graph differs from the coordinator's --------------------------------
cp -r "$SRC/graphs/hello" "$TMP/hello-changed"
sed -i 's/^description: .*/description: changed on the worker host/' "$TMP/hello-changed/graph.yaml"
"$YG" worker "$TMP/hello-changed/graph.yaml" --connect "$WEP" --id stale --heartbeat 200 \
  >"$TMP/stale.out" 2>"$TMP/stale.err" &
STALE=$!
PIDS="$PIDS $STALE"
wait_exit "$STALE" 10
rc=$?
if [ $rc -eq 1 ] && grep -q "not loaded by the coordinator" "$TMP/stale.err" &&
   grep -q "hello" "$TMP/stale.err"; then
  ok "graph hash mismatch: the worker exits 1 naming the graph"
else
  fail "hash mismatch (rc $rc)"; sed 's/^/    /' "$TMP/stale.err" | head -5
fi

# --- SIGTERM: goodbye, exit 0 --------------------------------------------------------------
kill -TERM "$W2"
wait_exit "$W2" 10
rc=$?
[ $rc -eq 0 ] && ok "w2 exits 0 on SIGTERM" || fail "w2 SIGTERM exit $rc"
sleep 0.2
grep -q "worker 'w2' (node '[^']*') said goodbye" "$TMP/serve.err" \
  && ok "the coordinator saw w2's goodbye" || fail "no goodbye from w2 logged"

# --- no worker: a run waits, then completes when one connects -------------------------------
cat >"$TMP/late.py" <<'EOF'
import asyncio, subprocess, sys
from yamlgraph_client import AsyncClient

ep, yg, wep, graph, mock, out = sys.argv[1:7]

async def main():
    async with AsyncClient(ep, timeout=30) as c:
        fut = asyncio.ensure_future(c.run("hello", {"name": "late", "style": "dry"}))
        await asyncio.sleep(1.0)
        if fut.done():
            print("FAIL: finished without a worker"); return 1
        w = subprocess.Popen([yg, "worker", graph, "--connect", wep, "--mock", mock,
                              "--id", "w3"], stdout=open(out, "w"), stderr=subprocess.STDOUT)
        try:
            r = await fut
        finally:
            w.terminate()
            rc = w.wait(10)
        ok = r.status == "completed" and r.state.get("name") == "late" and rc == 0
        print("late run", r.status, "worker exit", rc)
        return 0 if ok else 1

sys.exit(asyncio.run(main()))
EOF
"$PY" "$TMP/late.py" "$EP" "$YG" "$WEP" "$SRC/graphs/hello/graph.yaml" "$TMP/mock.yaml" \
  "$TMP/w3.out" >"$TMP/late.out" 2>&1
[ $? -eq 0 ] && ok "a run waits while no worker serves its node, then completes" \
  || { fail "waiting run"; sed 's/^/    /' "$TMP/late.out" | head -5; }

# --- the server stops cleanly ---------------------------------------------------------------
kill -TERM "$SERVE"
wait_exit "$SERVE" 10
rc=$?
[ $rc -eq 0 ] && ok "serve exits 0 on SIGTERM" || fail "serve SIGTERM exit $rc"

# --- the coordinator restarts: the worker reconnects and registers again --------------------
start_serve() { # WORKERS_ENDPOINT: sets SERVE2, EP2, WEP2
  "$YG" serve "$SRC/graphs/hello/graph.yaml" --bind 'tcp://127.0.0.1:*' --workers "$1" \
    --remote-only >"$TMP/serve2.out" 2>"$TMP/serve2.err" &
  SERVE2=$!
  PIDS="$PIDS $SERVE2"
  EP2="$(wait_line "$TMP/serve2.out" 'listening on ' "$SERVE2")"
  WEP2="$(wait_line "$TMP/serve2.out" 'workers on ' "$SERVE2")"
}
# The coordinator comes back on the same worker port.  That port is taken
# outside the kernel's ephemeral range so that no other process (tests run
# in parallel) is handed it while this coordinator is down.
FIXED_PORT="$("$PY" - <<'PYEOF'
import random, socket
for _ in range(200):
    port = random.randint(20000, 30000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
PYEOF
)"
start_serve "tcp://127.0.0.1:$FIXED_PORT"
"$YG" worker "$SRC/graphs/hello/graph.yaml" --connect "$WEP2" --mock "$TMP/mock.yaml" \
  --id w4 --heartbeat 200 >"$TMP/w4.out" 2>"$TMP/w4.err" &
W4=$!
PIDS="$PIDS $W4"
wait_line "$TMP/w4.out" 'registered with ' "$W4" >/dev/null
kill -KILL "$SERVE2"
wait "$SERVE2" 2>/dev/null
sleep 1 # the worker notices the silence (3 x 200 ms)
start_serve "$WEP2" # same worker port, a new process
cat >"$TMP/one.py" <<'EOF'
import sys
from yamlgraph_client import Client
with Client(sys.argv[1], timeout=20) as c:
    r = c.run("hello", {"name": "again", "style": "dry"})
    sys.exit(0 if r.status == "completed" and r.state.get("name") == "again" else 1)
EOF
if [ -n "$EP2" ] && "$PY" "$TMP/one.py" "$EP2" >"$TMP/one.out" 2>&1; then
  ok "after a coordinator restart the worker reconnects and serves runs again"
else
  fail "worker after a coordinator restart"; sed 's/^/    /' "$TMP/one.out" "$TMP/w4.err" | head -8
fi
grep -q "silent for" "$TMP/w4.err" && grep -q "ready sent again" "$TMP/w4.err" \
  && ok "the worker logged the silence and its re-registration" \
  || { fail "no silence/re-registration logged"; sed 's/^/    /' "$TMP/w4.err" | head -5; }
kill -TERM "$W4"; wait_exit "$W4" 10 >/dev/null
kill -TERM "$SERVE2"; wait_exit "$SERVE2" 10 >/dev/null

# --- a python node served by a C function on a worker (deploy/examples) ---------------------
BUILD="$(dirname "$YG")"
if ! command -v cc >/dev/null 2>&1 || [ ! -f "$BUILD/libyamlgraph.a" ]; then
  ok "native worker example skipped (no cc or no $BUILD/libyamlgraph.a)"
  finish
fi
CFLAGS="-std=gnu11 -Wall -Wextra -Werror -I$SRC/include"
# a sanitizer build's library needs the sanitizer runtime in the program too
grep -q '^YG_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null &&
  CFLAGS="$CFLAGS -fsanitize=address,undefined"
# shellcheck disable=SC2086
if cc $CFLAGS "$SRC/deploy/examples/text_tools_worker.c" -o "$TMP/text-tools-worker" \
     "$BUILD/libyamlgraph.a" $(pkg-config --libs libczmq libzmq yaml-0.1 hiredis libcurl msgpack) \
     -lpthread -lm 2>"$TMP/cc.err"; then
  ok "deploy/examples/text_tools_worker.c builds against the library"
else
  fail "native worker example does not build"; sed 's/^/    /' "$TMP/cc.err" | head -5
  finish
fi
PYG="$SRC/graphs/python-worker/graph.yaml"
"$YG" serve "$PYG" --bind 'tcp://127.0.0.1:*' --workers 'tcp://127.0.0.1:*' --remote-nodes stats \
  >"$TMP/pserve.out" 2>"$TMP/pserve.err" &
PSERVE=$!
PIDS="$PIDS $PSERVE"
PEP="$(wait_line "$TMP/pserve.out" 'listening on ' "$PSERVE")"
PWEP="$(wait_line "$TMP/pserve.out" 'workers on ' "$PSERVE")"
"$TMP/text-tools-worker" "$PYG" "$PWEP" >"$TMP/ttw.out" 2>"$TMP/ttw.err" &
TTW=$!
PIDS="$PIDS $TTW"
cat >"$TMP/py.py" <<'EOF'
import sys
from yamlgraph_client import Client
with Client(sys.argv[1], timeout=30) as c:
    r = c.run("python-worker", {"input": "One. Two three."})
    print(r.status, r.state.get("stats"))
    sys.exit(0 if r.status == "completed" and r.state.get("stats") == {"words": 3, "sentences": 2}
             else 1)
EOF
if "$PY" "$TMP/py.py" "$PEP" >"$TMP/py.out" 2>&1; then
  ok "a python node runs on a worker that registered a C function for it"
else
  fail "python node on the native worker"; sed 's/^/    /' "$TMP/py.out" "$TMP/ttw.err" | head -8
fi
kill -TERM "$TTW"
wait_exit "$TTW" 10
rc=$?
[ $rc -eq 0 ] && ok "the native worker exits 0 on SIGTERM" || fail "native worker exit $rc"
kill -TERM "$PSERVE"
wait_exit "$PSERVE" 10 >/dev/null
# sanitizer builds: no process reported a memory or UB error
if grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP"/*.err >/dev/null 2>&1; then
  fail "sanitizer reports in $(grep -l -E 'Sanitizer|runtime error:' "$TMP"/*.err | xargs -n1 basename)"
else
  ok "no sanitizer report in any process's stderr"
fi
finish
