#!/bin/sh
# make test-stress: runs the whole suite STRESS_RUNS times (default 30),
# every other run with each core kept busy by a spinning process, and
# stops at the first failure, printing its report and the tail of every
# log the failed run left. Each run keeps its files in a directory of its
# own (TMPDIR), removed when the run passes.
runs=${STRESS_RUNS:-30}
cores=$(nproc)
root=$(mktemp -d /tmp/lottery-stress-XXXXXX)
spinners=
stop_load () {
    [ -n "$spinners" ] && kill $spinners 2>/dev/null && wait $spinners 2>/dev/null
    spinners=
}
trap 'stop_load' EXIT
trap 'stop_load; exit 130' INT TERM
start=$(date +%s)
i=1
while [ "$i" -le "$runs" ]; do
    load=idle
    if [ $((i % 2)) -eq 0 ]; then
        load="$cores busy cores"
        for c in $(seq "$cores"); do
            sh -c 'while :; do :; done' &
            spinners="$spinners $!"
        done
    fi
    dir=$root/run-$i
    mkdir -p "$dir"
    began=$(date +%s)
    if TMPDIR=$dir sh scripts/test.sh "$@" > "$dir/report.txt" 2>&1; then
        stop_load
        echo "stress: run $i/$runs passed ($load) in $(( $(date +%s) - began )) s"
        rm -rf "$dir"
    else
        stop_load
        cat "$dir/report.txt"
        for log in $(find "$dir" -name '*.log' | sort); do
            echo "=== tail of $log"
            tail -n 40 "$log"
        done
        echo "stress: run $i/$runs FAILED ($load) after $(( $(date +%s) - start )) s;" \
             "its files are in $dir"
        exit 1
    fi
    i=$((i + 1))
done
rmdir "$root"
echo "stress: $runs runs passed in $(( $(date +%s) - start )) s"
