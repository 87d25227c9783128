#!/usr/bin/env bash
# crash_resume_test.sh - the durable file store across a crash: a run is
# killed with SIGKILL mid-run after some checkpoints were acknowledged;
# `yamlgraph resume` then continues from the last checkpoint and completes,
# and every checkpoint acknowledged before the crash is still in the history.
#   usage: tests/crash_resume_test.sh PATH/TO/yamlgraph
# Prints "N passed, M failed" and exits non-zero on any failure.
set -u
YG="${1:?usage: crash_resume_test.sh PATH/TO/yamlgraph}"
YG="$(cd "$(dirname "$YG")" && pwd)/$(basename "$YG")"
TMP="$(mktemp -d /tmp/yg-crash-test.XXXXXX)"
RUN_PID=""
cleanup() {
  if [ -n "$RUN_PID" ]; then kill -9 "$RUN_PID" 2>/dev/null; wait "$RUN_PID" 2>/dev/null; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
STORE="$TMP/crash.ckpt"
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }

# Four model steps, each reply delayed, so the run is mid-way for seconds.
mkdir -p "$TMP/prompts"
for i in 1 2 3 4; do
  printf 'system: s\nuser: "step %s of {topic}"\n' "$i" >"$TMP/prompts/p$i.yaml"
done
cat >"$TMP/chain.yaml" <<'EOF'
name: chain
prompts_relative: true
prompts_dir: prompts
state: {topic: str, o1: str, o2: str, o3: str, o4: str}
nodes:
  s1: {prompt: p1, variables: {topic: "{state.topic}"}, state_key: o1}
  s2: {prompt: p2, variables: {topic: "{state.topic}"}, state_key: o2}
  s3: {prompt: p3, variables: {topic: "{state.topic}"}, state_key: o3}
  s4: {prompt: p4, variables: {topic: "{state.topic}"}, state_key: o4}
edges:
  - {from: START, to: s1}
  - {from: s1, to: s2}
  - {from: s2, to: s3}
  - {from: s3, to: s4}
EOF
cat >"$TMP/mock.yaml" <<'EOF'
p1: {delay_ms: 300, reply: one}
p2: {delay_ms: 300, reply: two}
p3: {delay_ms: 5000, reply: three}
p4: {delay_ms: 300, reply: four}
EOF

"$YG" run "$TMP/chain.yaml" --thread crash-1 --checkpointer "$STORE" --mock "$TMP/mock.yaml" \
  --var topic=x --json >"$TMP/run.out" 2>"$TMP/run.err" &
RUN_PID=$!

# Wait until three saves are on disk (input, after s1, after s2): the file
# store acknowledges a save only after fsync, and s3 takes 5 s.
changes=0
last=0
for _ in $(seq 1 200); do
  now=$(size_of "$STORE")
  if [ "$now" != "$last" ]; then changes=$((changes + 1)); last=$now; fi
  [ "$changes" -ge 3 ] && break
  sleep 0.05
done
sleep 0.3 # s3 is now in flight
if kill -0 "$RUN_PID" 2>/dev/null; then ok "run is mid-way ($changes store writes seen)"; else
  fail "run ended before the crash"; fi
kill -9 "$RUN_PID" 2>/dev/null
wait "$RUN_PID" 2>/dev/null
RUN_PID=""

"$YG" history --thread crash-1 --checkpointer "$STORE" >"$TMP/before.json" 2>"$TMP/err"
if [ $? -eq 0 ]; then ok "history readable after the crash"; else fail "history after crash"; cat "$TMP/err"; fi
grep -oE '"id": "[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"' "$TMP/before.json" | sort >"$TMP/ids.before"
nbefore=$(wc -l <"$TMP/ids.before")
if [ "$nbefore" -ge 3 ]; then ok "$nbefore checkpoints survived"; else fail "only $nbefore checkpoints survived"; fi
if grep -q '"o2": "two"' "$TMP/before.json"; then ok "s2's output was acknowledged"; else
  fail "s2's output missing"; fi

# Continue: no interrupt is pending, so resume runs what was scheduled.
sed -i 's/delay_ms: 5000/delay_ms: 10/' "$TMP/mock.yaml"
"$YG" resume "$TMP/chain.yaml" --thread crash-1 --value null --checkpointer "$STORE" \
  --mock "$TMP/mock.yaml" --json >"$TMP/resume.out" 2>"$TMP/err"
rc=$?
if [ $rc -eq 0 ] && grep -q '"status": "completed"' "$TMP/resume.out"; then ok "resume completes"; else
  fail "resume exit $rc"; cat "$TMP/resume.out" "$TMP/err"; fi
for kv in '"o1": "one"' '"o2": "two"' '"o3": "three"' '"o4": "four"'; do
  if grep -qF "$kv" "$TMP/resume.out"; then ok "final state has $kv"; else fail "final state lacks $kv"; fi
done
# s1 and s2 were not run again: their loop counts stayed at 1
if grep -A6 '"_loop_counts"' "$TMP/resume.out" | grep -q '"s1": 1'; then ok "s1 ran once"; else
  fail "s1 ran again"; fi

"$YG" history --thread crash-1 --checkpointer "$STORE" >"$TMP/after.json" 2>/dev/null
grep -oE '"id": "[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"' "$TMP/after.json" | sort >"$TMP/ids.after"
missing=$(comm -23 "$TMP/ids.before" "$TMP/ids.after" | wc -l)
nafter=$(wc -l <"$TMP/ids.after")
if [ "$missing" -eq 0 ] && [ "$nafter" -gt "$nbefore" ]; then
  ok "nothing acknowledged was lost ($nbefore -> $nafter checkpoints)"; else
  fail "$missing acknowledged checkpoints lost"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
