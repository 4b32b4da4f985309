#!/bin/sh
# make fuzz: fuzz.sh BUILD SECONDS DATA_DIR TARGET...
# Seeds each target's corpus in BUILD/corpus/TARGET (real chunks and CSV
# lines from DATA_DIR, written by BUILD/fuzz-corpus, and the repository's
# config files), then runs it for SECONDS with tests/fuzz/seeds/TARGET as
# a second, read-only corpus. Prints one line of numbers per target; on a
# crash, the tail of its log and the input that crashed (in
# BUILD/artifacts), and exits non-zero.
build=$1 seconds=$2 data=$3
shift 3
corpus=$build/corpus
mkdir -p "$corpus" "$build/artifacts"
for target in "$@"; do
    mkdir -p "$corpus/$target"
done
"$build/fuzz-corpus" "$data" "$corpus" || exit 1
mkdir -p "$corpus/fuzz_settings" "$corpus/fuzz_client_config"
cp config.ini "$corpus/fuzz_settings/"
cp config.yaml "$corpus/fuzz_client_config/"
status=0
for target in "$@"; do
    log=$build/$target.log
    seeds=tests/fuzz/seeds/$target
    [ -d "$seeds" ] || seeds=
    began=$(date +%s)
    # Leaks fail a run too (detect_leaks is on under AddressSanitizer).
    # Inputs up to the largest packet limit and its header: 16386 bytes
    "$build/$target" -max_total_time="$seconds" -max_len=16386 -timeout=10 \
        -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$target-" \
        "$corpus/$target" $seeds > "$log" 2>&1
    rc=$?
    took=$(( $(date +%s) - began ))
    # libFuzzer's last status line: runs, edges covered (cov), features
    # (ft), corpus, execs per second
    numbers=$(grep -E '^#[0-9]+' "$log" | tail -n 1 \
              | sed 's/^#\([0-9]*\)[[:space:]]*[A-Z]*[[:space:]]*/runs: \1 /')
    echo "fuzz: $target | ${took}s | $numbers | exit: $rc"
    if [ "$rc" -ne 0 ]; then
        status=1
        tail -n 60 "$log"
    fi
done
exit $status
