# bench-lib.sh: what bench.sh, bench-auth.sh and bench-metrics.sh share
# (sourced; bench_name names the script in its messages).

# s_die MESSAGE: says why the bench failed, and exits 1.
s_die () {
    echo "$bench_name: FAIL: $*" >&2
    exit 1
}

# s_value FILE TEXT KEY: waits up to 30 s for a line of FILE holding TEXT
# and sets value to what follows "| KEY: " in the last such line.
s_value () {
    tries=0
    while [ $tries -lt 300 ]; do
        value=$(grep -F -- "$2" "$1" 2>/dev/null | tail -n 1 \
                | sed -n "s/.*| $3: \([^ |]*\).*/\1/p")
        [ -n "$value" ] && return 0
        sleep 0.1
        tries=$((tries + 1))
    done
    s_die "no '$2' in $1"
}
