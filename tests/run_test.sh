#!/usr/bin/env bash
# run_test.sh - the CLI's run / resume / state / history commands with the
# durable file store, exports, exit codes and usage errors.
#   usage: tests/run_test.sh PATH/TO/yamlgraph
# Needs YG_SOURCE_DIR and YG_CORPUS_DIR (set by CTest).  Prints
# "N passed, M failed" and exits non-zero on any failure.
set -u
YG="${1:?usage: run_test.sh PATH/TO/yamlgraph}"
YG="$(cd "$(dirname "$YG")" && pwd)/$(basename "$YG")"
SRC="${YG_SOURCE_DIR:?YG_SOURCE_DIR not set}"
CORPUS="${YG_CORPUS_DIR:?YG_CORPUS_DIR not set}"
MOCK="$SRC/tests/mock"
TMP="$(mktemp -d /tmp/yg-run-test.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
STORE="$TMP/threads.ckpt"
passed=0
failed=0

ok()   { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }

# expect_exit CODE NAME CMD... : run CMD, keep stdout in $TMP/out, check the exit code
expect_exit() {
  local want="$1" name="$2"
  shift 2
  "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  if [ "$got" = "$want" ]; then ok "$name (exit $got)"; else
    fail "$name: exit $got, expected $want"; sed 's/^/    /' "$TMP/err" | head -5; fi
}
# expect_out NAME PATTERN : the last command's stdout contains PATTERN (fixed string)
expect_out() {
  if grep -qF -- "$2" "$TMP/out"; then ok "$1"; else
    fail "$1: output lacks $2"; sed 's/^/    /' "$TMP/out" | head -20; fi
}

cd "$CORPUS" || exit 1
HELLO=examples/demos/hello/graph.yaml
INTERVIEW=examples/demos/interview/graph.yaml

# --- run, --var split at the first '=' (spec item 59) ---------------------------
expect_exit 0 "hello runs" "$YG" run "$HELLO" --mock "$MOCK/hello.yaml" --var name=Ada \
  --var style=a=b=c --json
expect_out "hello completed" '"status": "completed"'
expect_out "hello greeting" '"greeting": "Hello Ada, in a warm style!"'
expect_out "--var keeps '=' in the value" '"style": "a=b=c"'

# --input JSON, with --var applied over it
expect_exit 0 "run with --input" "$YG" run "$HELLO" --mock "$MOCK/hello.yaml" \
  --input '{"name": "Bob", "style": "dry"}' --var style=wet --json
expect_out "--input value used" '"name": "Bob"'
expect_out "--var wins over --input" '"style": "wet"'

# --- interview: run -> interrupted -> resume twice -> completed ---------------------
expect_exit 0 "interview pauses" "$YG" run "$INTERVIEW" --thread iv-1 --checkpointer "$STORE" \
  --mock "$MOCK/interview.yaml" --json
expect_out "status interrupted" '"status": "interrupted"'
expect_out "first question" '"value": "What is your name?"'
expect_out "thread id reported" '"thread_id": "iv-1"'

expect_exit 0 "resume with a name" "$YG" resume "$INTERVIEW" --thread iv-1 --value Ada \
  --checkpointer "$STORE" --mock "$MOCK/interview.yaml" --json
expect_out "still interrupted" '"status": "interrupted"'
expect_out "name stored" '"user_name": "Ada"'

expect_exit 0 "resume with a topic" "$YG" resume "$INTERVIEW" --thread iv-1 --value '"C"' \
  --checkpointer "$STORE" --mock "$MOCK/interview.yaml" --json
expect_out "completed" '"status": "completed"'
expect_out "greeting generated" "\"greeting\": \"Nice to meet you, Ada! Let's talk about C.\""

expect_exit 0 "state of the thread" "$YG" state --thread iv-1 --checkpointer "$STORE"
expect_out "state holds the topic" '"user_topic": "C"'
expect_out "state has no pending interrupt" '"interrupts": []'

expect_exit 0 "history of the thread" "$YG" history --thread iv-1 --checkpointer "$STORE"
n=$(grep -c '"source":' "$TMP/out")
if [ "$n" -ge 5 ]; then ok "history has $n checkpoints"; else fail "history has $n checkpoints"; fi
expect_out "history starts with the input checkpoint" '"source": "input"'

expect_exit 0 "history of an unknown thread" "$YG" history --thread nope --checkpointer "$STORE"
expect_out "empty history" '[]'
expect_exit 1 "state of an unknown thread" "$YG" state --thread nope --checkpointer "$STORE"

# a resume with nothing pending just returns the state
expect_exit 0 "resume a completed thread" "$YG" resume "$INTERVIEW" --thread iv-1 --value x \
  --checkpointer "$STORE" --mock "$MOCK/interview.yaml" --json
expect_out "completed again" '"status": "completed"'

# --- errors --------------------------------------------------------------------------
cat >"$TMP/loop.yaml" <<'EOF'
name: loop
nodes:
  a: {type: passthrough}
  b: {type: passthrough}
edges:
  - {from: START, to: a}
  - {from: a, to: b}
  - {from: b, to: a}
EOF
expect_exit 1 "step limit exceeded" "$YG" run "$TMP/loop.yaml" --max-steps 3 --json
expect_out "error status" '"status": "error"'
expect_out "error code" '"code": "YG_ESTEPLIMIT"'
expect_exit 1 "missing graph file" "$YG" run "$TMP/missing.yaml"
expect_exit 1 "resume without any checkpointer" "$YG" resume "$TMP/loop.yaml" --thread t --value x
expect_exit 2 "run without a graph" "$YG" run
expect_exit 2 "--var without '='" "$YG" run "$HELLO" --var novalue
expect_exit 2 "resume without --thread" "$YG" resume "$HELLO" --value x
expect_exit 2 "unknown option" "$YG" run "$HELLO" --frobnicate
expect_exit 2 "state without --thread" "$YG" state --checkpointer "$STORE"
expect_exit 0 "run --help" "$YG" run --help
expect_out "help text" "usage: yamlgraph run"

# --- exports (spec 12.1), written under the working directory ------------------------
(cd "$TMP" && "$YG" run "$CORPUS/examples/demos/memory/graph.yaml" --mock "$MOCK/memory.yaml" \
  --var input=review --thread ex-1 --export --json >"$TMP/out" 2>"$TMP/err")
if [ -f "$TMP/outputs/ex-1/review.md" ] && grep -q "Review: looks fine." "$TMP/outputs/ex-1/review.md"; then
  ok "markdown export written"; else fail "markdown export missing"; fi
if [ -f "$TMP/outputs/ex-1/tool_outputs.json" ] && grep -q '"tool": "git_log"' "$TMP/outputs/ex-1/tool_outputs.json"; then
  ok "json export written"; else fail "json export missing"; fi

# --- spec item 59 and docs/compatibility.md (execution) --------------------------------
cat >"$TMP/tiny.yaml" <<'EOF2'
name: tiny
state: {name: str}
nodes:
  a: {type: passthrough}
edges:
  - {from: START, to: a}
EOF2
# no --var: the input is {} (only the node's own write is in the state)
expect_exit 0 "run without --var" "$YG" run "$TMP/tiny.yaml" --json
if tr -d ' \n' <"$TMP/out" | grep -qF '"state":{"current_step":"a"}'; then
  ok "no --var gives an empty input"; else fail "no --var: state is not just current_step"; fi

# a checkpointer but no --thread: a generated run-<uuid> thread, also in state.thread_id
sed 's/^name: tiny$/name: tiny-ck\ncheckpointer: {type: memory}/' "$TMP/tiny.yaml" >"$TMP/tiny_ck.yaml"
expect_exit 0 "run with a checkpointer and no --thread" "$YG" run "$TMP/tiny_ck.yaml" --json
tid=$(grep -oE '"thread_id": "run-[0-9a-f-]{36}"' "$TMP/out" | sort -u)
if [ "$(printf '%s\n' "$tid" | grep -c .)" = 1 ] && [ "$(grep -cF "$tid" "$TMP/out")" = 2 ]; then
  ok "generated thread id reported and written to state.thread_id"; else
  fail "generated thread id: $(cat "$TMP/out")"; fi

# on a terminal, run asks interrupt questions interactively (needs script(1))
if command -v script >/dev/null 2>&1; then
  printf 'Ada\nC\n' | timeout 60 script -qec "'$YG' run '$INTERVIEW' --mock '$MOCK/interview.yaml'" \
    /dev/null >"$TMP/out" 2>&1
  expect_out "interactive run asks the first question" "What is your name?"
  expect_out "interactive run completes with the answers" "greeting: Nice to meet you, Ada! Let's talk about C."
else
  ok "interactive run: script(1) not available, skipped"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
