#!/usr/bin/env bash
# redis_resume_test.sh - interrupt in one process, resume in others, with
# the Redis checkpointer (everything read back from Redis):
#  - graphs/interview through `--checkpointer redis://...`: run -> paused,
#    resume -> paused again, resume -> completed; state and history read
#    by further processes; the documented keys exist;
#  - the corpus graph interrupt-child-with-checkpointer-redis.yaml, whose
#    own `checkpointer: {type: redis-simple, url: "${REDIS_URL}"}` section
#    picks the store; without REDIS_URL it falls back to memory;
#  - TTLs: redis-simple in seconds, redis in minutes;
#  - an unreachable server is a clear error, not a hang.
# A private redis-server is started on a free loopback port and killed at
# the end.  usage: tests/redis_resume_test.sh PATH/TO/yamlgraph
# Prints "N passed, M failed" last and exits non-zero on any failure.
set -u
YG="${1:?usage: redis_resume_test.sh PATH/TO/yamlgraph}"
YG="$(cd "$(dirname "$YG")" && pwd)/$(basename "$YG")"
ROOT="${YG_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
CORPUS="${YG_CORPUS_DIR:-$ROOT/../shared/corpus/yamlgraph}"
TMP="$(mktemp -d /tmp/yg-redis-test.XXXXXX)"
REDIS_PID=""
cleanup() {
  if [ -n "$REDIS_PID" ]; then kill -9 "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# json FILE EXPR: evaluate a Python expression over the JSON document d.
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  fail "redis-server and redis-cli are needed (scripts/install-deps.sh installs them)"
  finish
fi
PORT=""
for attempt in 1 2 3 4 5; do
  PORT=$(free_port)
  redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --dir "$TMP" >"$TMP/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 1 200); do
    [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && break
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.02
  done
  [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && break
  kill -9 "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; REDIS_PID=""
done
if [ -z "$REDIS_PID" ]; then
  fail "redis-server did not start: $(tail -3 "$TMP/redis.log")"
  finish
fi
URL="redis://127.0.0.1:$PORT"
RCLI() { redis-cli -p "$PORT" "$@"; }

# --- interview: three processes, one thread -----------------------------------
G="$ROOT/graphs/interview/graph.yaml"
MOCK="$ROOT/graphs/interview/mock.yaml"
T="interview-1"
"$YG" run "$G" --checkpointer "$URL" --thread "$T" --mock "$MOCK" --provider mock --json \
  >"$TMP/r1.json" 2>"$TMP/r1.err"
if [ $? -eq 0 ] && [ "$(json "$TMP/r1.json" 'd["status"]')" = interrupted ] &&
  [ "$(json "$TMP/r1.json" 'd["interrupts"][0]["node"]')" = ask_name ]; then
  ok "run pauses at ask_name"
else
  fail "run: $(cat "$TMP/r1.json" "$TMP/r1.err")"
fi
if [ "$(RCLI keys "lg:{$T}:*" | wc -l)" -ge 4 ] && [ "$(RCLI exists "lg:{$T}::head")" = 1 ] &&
  [ "$(RCLI hget "lg:{$T}::head" latest)" != "" ]; then
  ok "checkpoints are in Redis under lg:{$T}:"
else
  fail "keys: $(RCLI keys '*' | tr '\n' ' ')"
fi

"$YG" resume "$G" --checkpointer "$URL" --thread "$T" --value Ada --mock "$MOCK" --json \
  >"$TMP/r2.json" 2>"$TMP/r2.err"
if [ $? -eq 0 ] && [ "$(json "$TMP/r2.json" 'd["status"]')" = interrupted ] &&
  [ "$(json "$TMP/r2.json" 'd["interrupts"][0]["node"]')" = ask_topic ] &&
  [ "$(json "$TMP/r2.json" 'd["state"]["user_name"]')" = Ada ]; then
  ok "a second process resumes and pauses at ask_topic"
else
  fail "resume 1: $(cat "$TMP/r2.json" "$TMP/r2.err")"
fi

"$YG" resume "$G" --checkpointer "$URL" --thread "$T" --value "graph theory" --mock "$MOCK" \
  --json >"$TMP/r3.json" 2>"$TMP/r3.err"
if [ $? -eq 0 ] && [ "$(json "$TMP/r3.json" 'd["status"]')" = completed ] &&
  [ "$(json "$TMP/r3.json" 'd["state"]["user_topic"]')" = "graph theory" ] &&
  [ "$(json "$TMP/r3.json" 'd["state"]["answer"].startswith("Welcome, Ada!")')" = True ]; then
  ok "a third process resumes to the end"
else
  fail "resume 2: $(cat "$TMP/r3.json" "$TMP/r3.err")"
fi

"$YG" state --thread "$T" --checkpointer "$URL" >"$TMP/state.json" 2>"$TMP/state.err"
if [ $? -eq 0 ] && [ "$(json "$TMP/state.json" 'd["values"]["user_name"]')" = Ada ] &&
  [ "$(json "$TMP/state.json" 'len(d.get("next") or [])')" = 0 ] &&
  [ "$(json "$TMP/state.json" '"answer" in d["values"]')" = True ]; then
  ok "state read back by another process: completed, nothing next"
else
  fail "state: $(cat "$TMP/state.json" "$TMP/state.err")"
fi

"$YG" history --thread "$T" --checkpointer "$URL" >"$TMP/hist.json" 2>"$TMP/hist.err"
n=$(json "$TMP/hist.json" 'len(d)')
steps=$(json "$TMP/hist.json" '[e["step"] for e in d] == sorted([e["step"] for e in d], reverse=True)')
if [ "${n:-0}" -ge 4 ] && [ "$steps" = True ] && [ "$(RCLI zcard "lg:{$T}::hist")" = "$n" ]; then
  ok "history: $n checkpoints, newest first, one per history entry in Redis"
else
  fail "history ($n, $steps): $(head -c 400 "$TMP/hist.json") $(cat "$TMP/hist.err")"
fi

# --- the corpus graph with a redis-simple section ---------------------------------
C="$CORPUS/examples/demos/subgraph/subgraphs/interrupt-child-with-checkpointer-redis.yaml"
if [ -f "$C" ]; then
  REDIS_URL="$URL" "$YG" run "$C" --thread corpus-1 --json >"$TMP/c1.json" 2>"$TMP/c1.err"
  if [ "$(json "$TMP/c1.json" 'd["status"]')" = interrupted ] &&
    [ "$(RCLI exists "test-fr006-child:{corpus-1}::head")" = 1 ]; then
    ok "corpus graph: REDIS_URL expanded, paused, stored under its key_prefix"
  else
    fail "corpus run: $(cat "$TMP/c1.json" "$TMP/c1.err")"
  fi
  REDIS_URL="$URL" "$YG" resume "$C" --thread corpus-1 --value yes --json >"$TMP/c2.json" 2>"$TMP/c2.err"
  if [ "$(json "$TMP/c2.json" 'd["status"]')" = completed ] &&
    [ "$(json "$TMP/c2.json" 'd["state"]["phase"]')" = complete ] &&
    [ "$(json "$TMP/c2.json" 'd["state"]["user_answer"]')" = yes ]; then
    ok "corpus graph: resumed by another process to the end"
  else
    fail "corpus resume: $(cat "$TMP/c2.json" "$TMP/c2.err")"
  fi
  env -u REDIS_URL "$YG" run "$C" --thread corpus-2 --json >"$TMP/c3.json" 2>"$TMP/c3.err"
  if [ "$(json "$TMP/c3.json" 'd["status"]')" = interrupted ] &&
    [ "$(RCLI exists "test-fr006-child:{corpus-2}::head")" = 0 ] &&
    grep -q "in memory" "$TMP/c3.err"; then
    ok "corpus graph without REDIS_URL: memory fallback"
  else
    fail "corpus fallback: $(cat "$TMP/c3.json" "$TMP/c3.err")"
  fi
else
  fail "corpus graph missing: $C"
fi

# --- TTLs: redis-simple seconds, redis minutes -------------------------------------
mkdir -p "$TMP/g"
cat >"$TMP/g/simple.yaml" <<'EOF'
name: ttl-simple
checkpointer: {type: redis-simple, url: "${REDIS_URL}", ttl: 120, key_prefix: "s:"}
state: {q: str, a: str}
nodes:
  ask: {type: interrupt, message: "q?", resume_key: a}
edges:
  - {from: START, to: ask}
  - {from: ask, to: END}
EOF
sed -e 's/name: ttl-simple/name: ttl-redis/' \
  -e 's/{type: redis-simple, url: "${REDIS_URL}", ttl: 120, key_prefix: "s:"}/{type: redis, url: "${REDIS_URL}", ttl: 3}/' \
  "$TMP/g/simple.yaml" >"$TMP/g/redis.yaml"
REDIS_URL="$URL" "$YG" run "$TMP/g/simple.yaml" --thread ttl --json >/dev/null 2>"$TMP/t1.err"
REDIS_URL="$URL" "$YG" run "$TMP/g/redis.yaml" --thread ttl --json >/dev/null 2>"$TMP/t2.err"
ttl_ok=1
for k in $(RCLI keys 's:{ttl}:*'); do
  t=$(RCLI ttl "$k"); { [ "$t" -gt 100 ] && [ "$t" -le 120 ]; } || { ttl_ok=0; echo "  $k ttl $t"; }
done
for k in $(RCLI keys 'lg:{ttl}:*'); do
  t=$(RCLI ttl "$k"); { [ "$t" -gt 160 ] && [ "$t" -le 180 ]; } || { ttl_ok=0; echo "  $k ttl $t"; }
done
if [ "$ttl_ok" = 1 ] && [ "$(RCLI keys 's:{ttl}:*' | wc -l)" -ge 3 ] &&
  [ "$(RCLI keys 'lg:{ttl}:*' | wc -l)" -ge 3 ]; then
  ok "TTL: redis-simple ttl 120 s, redis ttl 3 min, on every key of the thread"
else
  fail "TTL: $(cat "$TMP/t1.err" "$TMP/t2.err")"
fi

# --- an unreachable server ------------------------------------------------------------
DEAD="redis://127.0.0.1:$(free_port)"
start=$(date +%s)
"$YG" run "$G" --checkpointer "$DEAD" --thread dead --mock "$MOCK" --json >"$TMP/d.json" 2>"$TMP/d.err"
rc=$?
took=$(($(date +%s) - start))
if [ "$rc" = 1 ] && grep -q "cannot connect to redis" "$TMP/d.json" "$TMP/d.err" && [ "$took" -lt 10 ]; then
  ok "unreachable Redis: run error naming it (${took}s)"
else
  fail "unreachable (rc $rc, ${took}s): $(cat "$TMP/d.json" "$TMP/d.err")"
fi

finish
