#!/usr/bin/env bash
# bench/run.sh - run the benchmark workloads (bench/README.md), each in 3
# fresh processes, and print every metric's median as a Markdown table.
#
#   bench/run.sh [BUILD_DIR] [WORKLOAD...]
#
# BUILD_DIR (default build-bench) is configured and built in Release mode
# when its benchmark programs are missing.  WORKLOADs: W1 W1c W1m W2 W3
# W3_10k W3_100k W4 W4big W5 (default: all; W4* only when bench_w4 exists).
# REPS=n overrides the number of processes (default 3); BENCH_TIMEOUT=s the
# time limit of one process (default 900).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-$root/build-bench}
shift || true
reps=${REPS:-3}
limit=${BENCH_TIMEOUT:-900} # seconds per process
case $reps in '' | *[!0-9]* | 0) echo "REPS must be a positive integer" >&2; exit 2 ;; esac

# Configure (Release), then bring the benchmark programs up to date.
targets=()
for src in "$here"/bench_w*.c "$here"/fake_llm_server.c; do
    [[ -e $src ]] && targets+=("$(basename "$src" .c)")
done
log=$(mktemp)
# (configure every time: new bench programs only become targets then)
if ! { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DYG_BUILD_TESTS=OFF &&
    cmake --build "$build" -j2 --target "${targets[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
fi
rm -f "$log"
if ! grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$build/CMakeCache.txt"; then
    echo "warning: $build is not a Release build; numbers are not comparable" >&2
fi

# workload -> command line (relative to the build dir)
declare -A cmd=(
    [W1]="bench_w1 --mode w1"
    [W1c]="bench_w1 --mode w1c"
    [W1m]="bench_w1 --mode w1m"
    [W2]="bench_w2"
    [W3]="bench_w3 --n 1000"
    [W3_10k]="bench_w3 --n 10000"
    [W3_100k]="bench_w3 --n 100000"
    [W4]="bench_w4 --c 1000"
    [W4big]="bench_w4 --c 10000"
    [W5]="bench_w5"
)
order=(W1 W1c W1m W2 W3 W3_10k W3_100k W4 W4big W5)
if (($# > 0)); then order=("$@"); fi

median() { # values... -> median (mean of the middle two for an even count)
    printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {
        if (NR == 0) exit; if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'
}

echo "# yamlgraph-c benchmarks: $(date -u +%Y-%m-%dT%H:%MZ), $reps fresh processes each"
echo
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), kernel $(uname -r)"
echo
echo "load average before each workload is in the last column (the contract wants an idle machine)"
echo
echo "| workload | metric | reps | median | load |"
echo "| --- | --- | --- | --- | --- |"
status=0
for w in "${order[@]}"; do
    line=${cmd[$w]:-}
    if [[ -z $line ]]; then echo "unknown workload $w" >&2; status=2; continue; fi
    exe=${line%% *}
    if [[ ! -x $build/$exe ]]; then
        [[ $w == W4* ]] && continue # another module's program, optional here
        echo "missing $build/$exe" >&2; status=1; continue
    fi
    declare -A vals=()
    keys=()
    load=$(cut -d' ' -f1 /proc/loadavg)
    failed=0
    for ((r = 1; r <= reps; r++)); do
        # Output goes to a file, not a pipe: a crashed program's orphaned
        # child (W4's fake server) must not keep us waiting for EOF.
        outf=$(mktemp)
        # shellcheck disable=SC2086 # the command line is split on purpose
        (cd "$build" && exec timeout "$limit" ./$line) >"$outf" 2>&1 && rc=0 || rc=$?
        out=$(tail -n 1 "$outf")
        rm -f "$outf"
        if ((rc != 0)); then
            echo "$w rep $r failed (exit $rc): $out" >&2
            failed=1
            break
        fi
        for kv in ${out#* }; do
            k=${kv%%=*}
            v=${kv#*=}
            [[ $k == "$kv" ]] && continue
            [[ -z ${vals[$k]:-} ]] && keys+=("$k")
            vals[$k]="${vals[$k]:-} $v"
        done
    done
    if ((failed)); then status=1; unset vals; continue; fi
    for k in "${keys[@]}"; do
        # shellcheck disable=SC2086
        echo "| $w | $k | $(echo ${vals[$k]} | sed 's/ / \/ /g') | $(median ${vals[$k]}) | $load |"
    done
    unset vals
done
exit $status
