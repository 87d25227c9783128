#!/usr/bin/env bash
# prove-multihost.sh - show the multi-host deployment working on this one
# machine: a coordinator (`yamlgraph serve --remote-only --workers ...`) and
# two workers (`yamlgraph worker`) as separate processes, an example graph
# run through the gateway with the Python client, one worker killed with
# SIGKILL while runs are in flight, and every run still completing.
#
#   deploy/prove-multihost.sh [PATH/TO/yamlgraph] [--netns]
#
# By default everything talks over loopback (127.0.0.1).  With --netns (as
# root, with `ip netns`), the coordinator and each worker get their own
# network namespace on a private bridge (10.77.0.0/24): three "hosts" that
# only reach each other over the network, like deploy/README.md's topology.
# Needs python3 with zmq and msgpack (scripts/install-deps.sh).  Cleans up
# every process (and namespace) it started, also on failure or Ctrl-C.
# Exits 0 when every run completed.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/.." && pwd)"
YG=""
NETNS=0
for arg in "$@"; do
  case "$arg" in
    --netns) NETNS=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) YG="$arg" ;;
  esac
done
if [ -z "$YG" ]; then
  for cand in "${YG_BIN:-}" "$SRC/build/yamlgraph" "$(command -v yamlgraph 2>/dev/null)"; do
    if [ -n "$cand" ] && [ -x "$cand" ]; then YG="$cand"; break; fi
  done
fi
if [ -z "$YG" ] || [ ! -x "$YG" ]; then
  echo "prove-multihost: no yamlgraph binary (build it, or pass its path)" >&2
  exit 2
fi
YG="$(cd "$(dirname "$YG")" && pwd)/$(basename "$YG")"
PY=""
for cand in ${PYTHON:-} /usr/bin/python3 python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import zmq, msgpack' 2>/dev/null; then
    PY="$cand"; break
  fi
done
if [ -z "$PY" ]; then
  echo "prove-multihost: python3 with zmq and msgpack is required (scripts/install-deps.sh)" >&2
  exit 2
fi

TMP="$(mktemp -d /tmp/yg-prove.XXXXXX)"
PIDS=""
NS_PREFIX="yg$$"
BRIDGE="${NS_PREFIX}br"
cleanup() {
  for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
  for p in $PIDS; do wait "$p" 2>/dev/null; done
  if [ "$NETNS" -eq 1 ]; then
    for h in c w1 w2; do ip netns del "${NS_PREFIX}$h" 2>/dev/null; done
    ip link del "$BRIDGE" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { printf '\n==> %s\n' "$*"; }

# --- "hosts" ------------------------------------------------------------------------
if [ "$NETNS" -eq 1 ]; then
  if [ "$(id -u)" -ne 0 ] || ! ip netns list >/dev/null 2>&1; then
    echo "prove-multihost: --netns needs root and iproute2 (ip netns)" >&2
    exit 2
  fi
  say "three network namespaces on bridge $BRIDGE (10.77.0.0/24)"
  ip link add "$BRIDGE" type bridge && ip addr add 10.77.0.1/24 dev "$BRIDGE" &&
    ip link set "$BRIDGE" up || { echo "cannot create the bridge" >&2; exit 1; }
  n=10
  for h in c w1 w2; do
    ns="${NS_PREFIX}$h"
    ip netns add "$ns" &&
      ip link add "${ns}h" type veth peer name eth0 netns "$ns" &&
      ip link set "${ns}h" master "$BRIDGE" up &&
      ip netns exec "$ns" ip addr add "10.77.0.$n/24" dev eth0 &&
      ip netns exec "$ns" ip link set eth0 up &&
      ip netns exec "$ns" ip link set lo up || { echo "cannot set up $ns" >&2; exit 1; }
    echo "    $ns: 10.77.0.$n"
    n=$((n + 1))
  done
  COORD_IP=10.77.0.10
  # only ever run in the background (`on HOST cmd &`): exec keeps $! the
  # program's own pid (ip netns exec execs the command too)
  on() { local h="$1"; shift; exec ip netns exec "${NS_PREFIX}$h" "$@"; }
else
  say "loopback: coordinator and workers are separate processes on 127.0.0.1"
  COORD_IP=127.0.0.1
  on() { shift; exec "$@"; }
fi

# wait_line FILE PATTERN PID: the rest of the first line starting with PATTERN.
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

# Offline model replies (the mock provider) with 300 ms per call, so tasks
# are in flight when a worker dies.  Real deployments set provider keys in
# /etc/yamlgraph/yamlgraph.env instead.
{ echo "latency_ms: 300"; cat "$SRC/graphs/hello/mock.yaml" "$SRC/graphs/map/mock.yaml"; } \
  >"$TMP/mock.yaml"
GRAPHS="$SRC/graphs/hello/graph.yaml $SRC/graphs/map/graph.yaml"

say "coordinator: yamlgraph serve --remote-only (no node runs here), file checkpoints"
# shellcheck disable=SC2086
on c "$YG" serve $GRAPHS --bind "tcp://$COORD_IP:*" --workers "tcp://$COORD_IP:*" \
  --remote-only --checkpointer "$TMP/checkpoints.ygc" --verbose \
  >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVE=$!
PIDS="$PIDS $SERVE"
EP="$(wait_line "$TMP/serve.out" 'listening on ' "$SERVE")"
WEP="$(wait_line "$TMP/serve.out" 'workers on ' "$SERVE")"
if [ -z "$EP" ] || [ -z "$WEP" ]; then
  echo "the coordinator did not start:" >&2; cat "$TMP/serve.err" >&2; exit 1
fi
echo "    clients: $EP"
echo "    workers: $WEP"

start_worker() { # HOST NAME
  say "worker $2: yamlgraph worker --connect $WEP"
  # shellcheck disable=SC2086
  on "$1" "$YG" worker $GRAPHS --connect "$WEP" --mock "$TMP/mock.yaml" --id "$2" \
    --heartbeat 250 >"$TMP/$2.out" 2>"$TMP/$2.err" &
  WPID=$!
  PIDS="$PIDS $WPID"
  if ! wait_line "$TMP/$2.out" 'registered with ' "$WPID" >/dev/null; then
    echo "worker $2 did not register:" >&2; cat "$TMP/$2.err" >&2; exit 1
  fi
  echo "    pid $WPID registered"
}
start_worker w1 w1; W1=$WPID
start_worker w2 w2; W2=$WPID

say "client: 6 runs of graphs/map and graphs/hello through the gateway; SIGKILL w1 (pid $W1) after 0.5 s"
cat >"$TMP/client.py" <<'EOF'
import asyncio, os, signal, sys, time
sys.path.insert(0, sys.argv[4])
from yamlgraph_client import AsyncClient, Client

ep, kill_pid, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

async def main():
    async with AsyncClient(ep, timeout=60) as c:
        t0 = time.monotonic()
        jobs = []
        for i in range(runs):
            jobs.append(("map", asyncio.ensure_future(
                c.run("map", {"topic": "garden %d" % i}, thread="prove-map-%d" % i))))
            jobs.append(("hello", asyncio.ensure_future(
                c.run("hello", {"name": "Ada %d" % i, "style": "formal"},
                      thread="prove-hello-%d" % i))))
        await asyncio.sleep(0.5)
        os.kill(kill_pid, signal.SIGKILL)
        print("    %.2fs  killed worker pid %d" % (time.monotonic() - t0, kill_pid), flush=True)
        failed = 0
        for graph, fut in jobs:
            try:
                r = await fut
            except Exception as e:
                print("    FAILED %s: %s" % (graph, e)); failed += 1; continue
            s = r.state
            what = (s.get("summary", "")[:60] + "...") if graph == "map" else s.get("greeting", "")
            print("    %.2fs  %-5s %-9s thread %-14s %s" % (time.monotonic() - t0, graph, r.status,
                                                          r.thread, what))
            if r.status != "completed":
                failed += 1
    with Client(ep) as c:   # the checkpoints are on the coordinator: ask for one
        st = c.state("prove-map-0", graph="map")
        print("    state of thread prove-map-0: step %s, %d expansions" %
              (st.get("step") if isinstance(st, dict) else getattr(st, "step", "?"),
               len((st.state if hasattr(st, "state") else st.get("state", {})).get("expansions", []))))
    print("    %d of %d runs completed" % (len(jobs) - failed, len(jobs)))
    return failed

sys.exit(1 if asyncio.run(main()) else 0)
EOF
"$PY" "$TMP/client.py" "$EP" "$W1" 3 "$SRC/clients/python"
rc=$?
wait "$W1" 2>/dev/null

say "what the coordinator logged about the workers"
grep -E "worker '" "$TMP/serve.err" | sed 's/^/    /'

say "stop: SIGTERM to w2 (goodbye) and to the coordinator"
kill -TERM "$W2"; wait "$W2"; echo "    w2 exit status $?"
kill -TERM "$SERVE"; wait "$SERVE"; echo "    serve exit status $?"
PIDS=""
if [ $rc -eq 0 ]; then
  say "PROVED: every run completed although a worker died mid-run"
else
  say "FAILED: some runs did not complete (logs: serve.err, w1.err, w2.err above)"
  cat "$TMP/serve.err" "$TMP/w2.err" | tail -20
fi
exit $rc
