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

# s_generate DIR AGENCIES BETS: the generated data set in DIR, made once
# (scripts/gen-data.sh) and kept for the next runs.
s_generate () {
    [ -d "$1" ] && return 0
    echo "$bench_name: generating $2 agencies of $3 bets in $1"
    rm -rf "$1.tmp"
    sh scripts/gen-data.sh "$1.tmp" "$2" "$3"
    mv "$1.tmp" "$1"
}
