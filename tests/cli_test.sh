#!/usr/bin/env bash
# cli_test.sh - the yamlgraph CLI front end: validate, lint, mermaid, help,
# version, usage errors and robustness on bad input.
#
# usage: bash tests/cli_test.sh PATH/TO/yamlgraph
# env:   YG_CORPUS_DIR (default: ../shared/corpus/yamlgraph beside the repo)
set -u

CLI="${1:?usage: cli_test.sh PATH/TO/yamlgraph}"
case "$CLI" in /*) ;; *) CLI="$PWD/$CLI" ;; esac
HERE="$(cd "$(dirname "$0")" && pwd)"
CORPUS="${YG_CORPUS_DIR:-$HERE/../../shared/corpus/yamlgraph}"
TMP="$(mktemp -d /tmp/yg-cli-test.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }

# run NAME CMD... : runs the command, keeps stdout/stderr/exit code.
run() {
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    out="$(cat "$TMP/out")"
    err="$(cat "$TMP/err")"
}

# check_rc NAME EXPECTED : exit code must match (and never a crash).
check_rc() {
    if [ "$rc" -eq "$2" ]; then ok "$1 (exit $rc)"; else
        fail "$1: exit $rc, expected $2"; echo "  stdout: ${out:0:400}"; echo "  stderr: ${err:0:400}"; fi
}

# contains NAME HAYSTACK NEEDLE
contains() {
    if printf '%s' "$2" | grep -qF -- "$3"; then ok "$1"; else
        fail "$1: '$3' not found"; echo "  in: ${2:0:600}"; fi
}

# ---------------------------------------------------------------- basics
run "$CLI" --version
check_rc "--version" 0
if printf '%s\n' "$out" | grep -qE '^yamlgraph [0-9]+\.[0-9]+\.[0-9]+$'; then ok "--version prints 'yamlgraph X.Y.Z'"; else fail "--version output: $out"; fi

run "$CLI" --help
check_rc "--help" 0
for c in validate lint mermaid; do contains "--help lists $c" "$out" "  $c "; done

run "$CLI"
check_rc "no arguments is a usage error" 2
contains "no arguments prints usage on stderr" "$err" "usage: yamlgraph"

run "$CLI" frobnicate
check_rc "unknown command" 2
contains "unknown command names it" "$err" "unknown command 'frobnicate'"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && ok "unknown command: one line on stderr" || fail "unknown command: stderr is not one line: $err"

run "$CLI" --frobnicate
check_rc "unknown global flag" 2

run "$CLI" validate --strict "$CORPUS/examples/demos/hello/graph.yaml"
check_rc "unknown validate flag" 2
contains "unknown flag names it" "$err" "unknown option '--strict'"

run "$CLI" validate
check_rc "validate without a graph" 2

run "$CLI" lint
check_rc "lint without a graph" 2

run "$CLI" mermaid
check_rc "mermaid without a graph" 2

run "$CLI" mermaid -o
check_rc "mermaid -o without a file" 2

run "$CLI" graph nonsense x.yaml
check_rc "graph group: unknown command" 2

run "$CLI" lint --help
check_rc "lint --help" 0
contains "lint --help shows usage" "$out" "usage: yamlgraph lint"

# ---------------------------------------------------------------- validate: corpus
cd "$CORPUS" || { fail "cannot cd to corpus $CORPUS"; echo "$passed passed, $failed failed"; exit 1; }
mapfile -t graphs < <(find examples -name '*.yaml' -not -path '*/prompts/*' -not -path '*/snippets/*' | LC_ALL=C sort)
[ "${#graphs[@]}" -eq 35 ] && ok "corpus has 35 graphs" || fail "corpus graph count ${#graphs[@]}, expected 35"

run "$CLI" validate "${graphs[@]}"
check_rc "validate corpus: some graphs invalid" 1
n_ok=$(printf '%s\n' "$out" | grep -c '^ok: ')
n_err=$(printf '%s\n' "$err" | grep -c .)
[ "$n_ok" -eq 33 ] && ok "validate corpus: 33 ok lines" || { fail "validate corpus: $n_ok ok lines, expected 33"; echo "$err" | head -20; }
[ "$n_err" -eq 2 ] && ok "validate corpus: exactly 2 error lines" || { fail "validate corpus: $n_err error lines, expected 2"; echo "$err" | head -20; }
contains "validate names missing child (memory)" "$err" "interrupt-child-with-checkpointer.yaml"
contains "validate names missing child (redis)" "$err" "interrupt-child-with-checkpointer-redis.yaml"
contains "validate error is file:line:column" "$err" "examples/demos/interrupt/interrupt-parent-redis.yaml:"
if printf '%s\n' "$err" | grep -qE '^examples/demos/interrupt/interrupt-parent(-redis|-with-checkpointer-child)\.yaml:[0-9]+:[0-9]+: '; then
    ok "validate errors carry line and column"; else fail "validate errors lack line:column: $err"; fi
contains "validate ok line format" "$out" "ok: examples/demos/reflexion/graph.yaml (reflexion-demo: 3 nodes, 5 edges)"

run "$CLI" graph validate examples/demos/router/graph.yaml
check_rc "graph validate alias" 0
contains "graph validate alias output" "$out" "ok: examples/demos/router/graph.yaml (tone-router-demo: 4 nodes, 5 edges)"

# ---------------------------------------------------------------- validate: bad input
printf 'name: bad\nnodes:\n  a:\n    prompt: [unclosed\nedges: []\n' >"$TMP/malformed.yaml"
run "$CLI" validate "$TMP/malformed.yaml"
check_rc "validate malformed YAML" 1
if printf '%s\n' "$err" | grep -qE "^$TMP/malformed.yaml:[0-9]+:[0-9]+: "; then ok "malformed YAML: file:line:column line"; else fail "malformed YAML message: $err"; fi

printf 'name: x\nnodes:\n  a: {prompt: p}\n' >"$TMP/noedges.yaml"
run "$CLI" validate "$TMP/noedges.yaml"
check_rc "validate graph without edges" 1
contains "graph without edges names the file" "$err" "$TMP/noedges.yaml"

: >"$TMP/empty.yaml"
head -c 4096 /dev/urandom >"$TMP/garbage.yaml" 2>/dev/null || printf '\x00\x01\x02\xff' >"$TMP/garbage.yaml"
for f in "$TMP/empty.yaml" "$TMP/garbage.yaml" "$TMP" "$TMP/does-not-exist.yaml"; do
    run "$CLI" validate "$f"
    check_rc "validate $(basename "$f") fails cleanly" 1
    run "$CLI" lint "$f"
    check_rc "lint $(basename "$f") fails cleanly" 1
    run "$CLI" mermaid "$f"
    check_rc "mermaid $(basename "$f") fails cleanly" 1
done

# ---------------------------------------------------------------- lint
run "$CLI" lint examples/rag/graph.yaml
check_rc "lint python graph (info only)" 0
contains "lint mentions the external worker" "$out" "yamlgraph worker"
contains "lint issue format" "$out" "examples/rag/graph.yaml:32:3: I601 info: Node 'retrieve' uses python tool 'rag_retrieve'"
contains "lint issue has a fix" "$out" "(fix: "

run "$CLI" lint examples/demos/interrupt/interrupt-parent-redis.yaml
check_rc "lint graph with an error" 1
contains "lint E502 line" "$out" "E502 error: Subgraph node 'run_child' references non-existent graph file"

run "$CLI" lint examples/demos/reflexion/graph.yaml
check_rc "lint clean graph" 0
contains "lint clean graph summary" "$out" "ok: examples/demos/reflexion/graph.yaml (no issues)"

run "$CLI" graph lint --json examples/demos/web-research/graph.yaml
check_rc "graph lint --json" 0
contains "lint --json has the code" "$out" '"code": "W602"'
contains "lint --json has validity" "$out" '"valid": true'

run "$CLI" lint --root /nonexistent examples/cost-router/cost-router.yaml
check_rc "lint with a wrong --root finds no prompts" 1
contains "wrong --root gives E004" "$out" "E004 error"

# ---------------------------------------------------------------- mermaid
run "$CLI" mermaid examples/demos/reflexion/graph.yaml
check_rc "mermaid reflexion" 0
[ "$(printf '%s\n' "$out" | head -1)" = '```mermaid' ] && ok "mermaid output starts with \`\`\`mermaid" || fail "mermaid first line: $(printf '%s\n' "$out" | head -1)"
[ "$(printf '%s\n' "$out" | sed -n 2p)" = 'flowchart TD' ] && ok "mermaid second line is flowchart TD" || fail "mermaid second line"
[ "$(printf '%s\n' "$out" | tail -1)" = '```' ] && ok "mermaid output ends the fence" || fail "mermaid last line"
contains "mermaid condition edge" "$out" '    critique -.->|"critique.score < 0.8"| refine'
first="$out"
run "$CLI" mermaid examples/demos/reflexion/graph.yaml
[ "$out" = "$first" ] && ok "mermaid output is stable" || fail "mermaid output differs between runs"

run "$CLI" graph mermaid -o "$TMP/flow.md" examples/demos/map/graph.yaml
check_rc "graph mermaid -o FILE" 0
[ -z "$out" ] && ok "mermaid -o writes nothing on stdout" || fail "mermaid -o stdout: $out"
if [ -f "$TMP/flow.md" ] && head -1 "$TMP/flow.md" | grep -qx '```mermaid'; then ok "mermaid -o file content"; else fail "mermaid -o file missing or wrong"; fi
run "$CLI" mermaid --output="$TMP/flow2.md" examples/demos/map/graph.yaml
check_rc "mermaid --output=FILE" 0
cmp -s "$TMP/flow.md" "$TMP/flow2.md" && ok "-o and --output= write the same" || fail "-o and --output= differ"

run "$CLI" mermaid -o /nonexistent-dir/x.md examples/demos/map/graph.yaml
check_rc "mermaid to an unwritable file" 1

run "$CLI" mermaid examples/demos/map/graph.yaml examples/demos/router/graph.yaml
check_rc "mermaid with two graphs is a usage error" 2

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
