#!/bin/sh
# make bench, make bench-quick: bench.sh full|quick TOOLS
#
# Our server against the baseline (TOOLS/lottery-baseline: one thread,
# the same protocol, rules and durability), driven by TOOLS/lottery-loadgen,
# which speaks v1 for every agency at once and after each run checks the
# bets file line by line and every agency's winners: a failed check, or a
# server that does not exit 0 on SIGTERM, stops the bench with status 1.
# Every server runs with BETS_FSYNC=true and every agency sends chunks
# of 100 bets (8 kB at most), stop-and-wait. Each round runs the baseline,
# then ours embedded (bin/lottery-server), then distributed with 1, 2 and
# 4 handler processes, so every ratio compares runs made minutes apart
# on the same noisy machine; the figures are medians over the rounds.
#
# full: the real data (DATA_DIR, ../shared/data; skipped when absent), 50
# agencies x 200,000 bets and 1,000 x 1,000, generated once and cached in
# .run/bench/data, BENCH_ROUNDS rounds (3). It rewrites what lies between
# the markers of docs/benchmarks.md (the analysis around them is kept)
# and docs/benchmarks.png. After the runs, TOOLS/lottery-hop measures what
# one hop between threads and between processes costs here.
# quick: 5 x 2,000 and 20 x 200 generated, the baseline, embedded and one
# handler, one round, all in .run/bench-quick: the harness, kept from rot.
set -euf
bench_name=bench
. "$(dirname "$0")/bench-lib.sh"
mode=$1 tools=$2
case $mode in
    full)
        target=bench out=.run/bench doc=docs/benchmarks.md plot=docs/benchmarks.png
        rounds=${BENCH_ROUNDS:-3}
        configs="baseline embedded handlers-1 handlers-2 handlers-4"
        workloads="real 50x200000 1000x1000"
        hop_rounds=20000 ;;
    quick)
        target=bench-quick out=.run/bench-quick doc=.run/bench-quick/benchmarks.md
        plot=.run/bench-quick/benchmarks.png
        rounds=1
        configs="baseline embedded handlers-1"
        workloads="5x2000 20x200"
        hop_rounds=2000 ;;
    *)
        echo "usage: bench.sh full|quick TOOLS" >&2
        exit 2 ;;
esac
real_data=${DATA_DIR:-../shared/data}
runs=$out/runs                  # a folder of logs per run; the bets file
results=$out/results.txt        # one key=value line per run
bets=$runs/bets.csv
backlog=2048                    # the 1,000 agencies connect at once
timeout=300                     # seconds one load generator run may take
any="WORK_ENDPOINT=tcp://127.0.0.1:* RECORDS_ENDPOINT=tcp://127.0.0.1:*
     RESULTS_ENDPOINT=tcp://127.0.0.1:* EVENTS_ENDPOINT=tcp://127.0.0.1:*
     WINNERS_ENDPOINT=tcp://127.0.0.1:* BROKER_ENDPOINT=tcp://127.0.0.1:*"
pids=                           # NAME:PID of each server process running

# Stops what is still running (after a failure or an interrupt).
s_cleanup () {
    for entry in $pids; do kill -TERM "${entry#*:}" 2>/dev/null || true; done
    for entry in $pids; do wait "${entry#*:}" 2>/dev/null || true; done
}
trap s_cleanup EXIT
trap 'exit 130' INT TERM

# s_start NAME PROGRAM [VAR=value ...]: one server process, its log NAME.log.
s_start () {
    name=$1 program=$2
    shift 2
    # README's advice for many agencies: room for a bets and a winners
    # connection of each at once
    env SERVER_PORT=0 SERVER_LISTEN_BACKLOG=$backlog BETS_FSYNC=true \
        MAX_CONNECTIONS=$((agencies * 2 > 1024 ? agencies * 2 : 1024)) \
        AGENCIES="$agencies" BETS_FILE="$bets" "$@" "$program" > "$run/$name.log" 2>&1 &
    pids="$pids $name:$!"
}

# s_bound ACTOR SOCKET NAME: adds NAME_ENDPOINT, what ACTOR bound, to bound.
s_bound () {
    s_value "$run/$1.log" "action: socket_open | result: success | actor: $1 | socket: $2 | mode: bind" endpoint
    bound="$bound $3_ENDPOINT=tcp://127.0.0.1:${value##*:}"
}

# s_servers CONFIG: starts the server side and sets port. Distributed, the
# binders go first and the others learn their ports from their logs.
s_servers () {
    case $1 in
        baseline)
            s_start baseline "$tools/lottery-baseline"
            s_value "$run/baseline.log" "action: escuchar | result: success" port
            port=$value
            return ;;
        embedded)
            s_start server bin/lottery-server
            front=server ;;
        handlers-*)
            bound=
            s_start coordinator bin/lottery-coordinator $any
            s_bound coordinator events EVENTS
            s_bound coordinator winners WINNERS
            s_start broker bin/lottery-broker $any $bound
            s_bound broker frontends BROKER
            s_bound broker work WORK
            s_bound broker results RESULTS
            s_start frontend bin/lottery-frontend $bound
            s_start persister bin/lottery-persister $any $bound
            s_bound persister records RECORDS
            for n in $(seq 1 "${1#handlers-}"); do
                s_start "handler-$n" bin/lottery-handler $bound
            done
            front=frontend ;;
    esac
    for entry in $pids; do
        s_value "$run/${entry%%:*}.log" "action: start | result: success" program
    done
    s_value "$run/$front.log" "action: escuchar | result: success" port
    port=$value
}

# Reads each server process's peak RSS (kB) into rss, then stops them
# with SIGTERM in compose's order; each must still run, and exit 0.
s_stop () {
    rss=
    for entry in $pids; do
        hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/${entry#*:}/status" 2>/dev/null || true)
        if [ -z "$hwm" ]; then
            status=0
            wait "${entry#*:}" || status=$?
            s_die "${entry%%:*} ended before it was stopped (status $status); see $run"
        fi
        rss="$rss${rss:+,}${entry%%:*}:$hwm"
    done
    for kind in frontend broker handler coordinator persister server baseline; do
        for entry in $pids; do
            case ${entry%%:*} in
                "$kind"|"$kind"-*)
                    status=0
                    kill -TERM "${entry#*:}"
                    wait "${entry#*:}" || status=$?
                    [ $status -eq 0 ] || s_die "${entry%%:*} exited $status on SIGTERM; see $run" ;;
            esac
        done
    done
    pids=
}

# s_run WORKLOAD DATA AGENCIES CONFIG ROUND
s_run () {
    workload=$1 data=$2 agencies=$3 config=$4 round=$5
    run=$runs/$workload-$config-$round
    mkdir -p "$run"
    rm -f "$bets" "$bets.journal"
    s_servers "$config"
    if ! "$tools/lottery-loadgen" --server "127.0.0.1:$port" --data "$data" \
            --agencies "$agencies" --bets-file "$bets" --output "$run/result.txt" \
            --timeout $timeout > "$run/loadgen.log" 2>&1; then
        cat "$run/loadgen.log" >&2
        grep -h "result: fail" "$run"/*.log | head -n 20 >&2 || true
        s_die "$workload, $config, round $round: see $run"
    fi
    s_stop
    rm -f "$bets" "$bets.journal"
    echo "workload=$workload config=$config round=$round $(cat "$run/result.txt") rss=$rss" \
        >> "$results"
    echo "bench: $workload $config round $round: $(tail -n 1 "$run/loadgen.log" | sed 's/^loadgen: //')"
}

# s_data WORKLOAD: sets data to its folder and agencies, generating
# AxB (A agencies of B bets) once; empty data when there is none.
s_data () {
    if [ "$1" = real ]; then
        data=$real_data agencies=5
        for n in 1 2 3 4 5; do
            [ -f "$real_data/agency-$n.csv" ] || data=
        done
        return
    fi
    agencies=${1%x*} data=$out/data/$1
    s_generate "$data" "$agencies" "${1#*x}"
}

rm -rf "$runs" "$results"
mkdir -p "$runs"
started=$(date +%s)
for workload in $workloads; do
    s_data "$workload"
    if [ -z "$data" ]; then
        echo "bench: $workload: SKIP (no $real_data/agency-1..5.csv)"
        continue
    fi
    for round in $(seq 1 "$rounds"); do
        for config in $configs; do
            s_run "$workload" "$data" "$agencies" "$config" "$round"
        done
    done
done
[ -s "$results" ] || s_die "no workload ran"

# What one hop costs here, threads (inproc) and processes (tcp), on one CPU
# and on two: the gap between embedded and distributed mode is mostly
# these. A machine with one CPU has no "two CPUs" figure.
hops=$out/hops.txt
: > "$hops"
for transport in inproc tcp; do
    for cpus in same other; do
        "$tools/lottery-hop" "$transport" "$cpus" "$hop_rounds" >> "$hops" 2>/dev/null \
        || [ $? -eq 3 ] || s_die "lottery-hop $transport $cpus failed"
    done
done
seconds=$(($(date +%s) - started))

# The report: the table between the markers of $doc, and the plot.
table=$out/table.md
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
filesystem=$(df -T "$runs" | awk 'NR == 2 { print $2 " (" $1 ")" }')
cat > "$table" <<EOF
<!-- bench:begin -->
<!-- Generated by \`make $target\` (scripts/bench.sh); edits between the markers are lost. -->

- Machine: $(nproc) cores, $cpu, $(uname -sr); the bets file on
  $filesystem. Other work may have shared the machine.
- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); the whole run took ${seconds} s.
- Load: every agency speaks v1 stop-and-wait, 100 bets a chunk (8 kB at
  most), all agencies connecting at once. Servers: \`BETS_FSYNC=true\`,
  \`SERVER_LISTEN_BACKLOG=$backlog\`, \`MAX_CONNECTIONS\` twice the agencies (at
  least 1024), the rest at their defaults (embedded: two handler threads;
  \`LOG_SETTLE\` 0, as outside docker).
- Figures: medians over the rounds. vs baseline: over the baseline's median
  for the same workload in this run, the runs alternating; vs embedded:
  distributed over embedded, likewise. bets/s: all bets
  over the time from the first connection to the last 'O'. Draw: from the
  last 'O' to the last winners answer. Slowest / median: the agencies' upload
  times. Peak RSS: VmHWM of each server process, the largest over the rounds.
- Every run was checked: the bets file line by line against the input, and
  each agency's winners.

EOF
awk -v plot_data="$out/plot.dat" -v plot_script="$out/plot.gp" -v png="$plot" -f /dev/stdin \
    "$results" >> "$table" <<'EOF'
function median (metric, key,    count, i, j, t, v) {
    count = runs [key]
    for (i = 1; i <= count; i++) {
        v = value [metric, key, i] + 0
        for (j = i - 1; j >= 1 && t [j] > v; j--)
            t [j + 1] = t [j]
        t [j + 1] = v
    }
    return count % 2 ? t [(count + 1) / 2] : (t [count / 2] + t [count / 2 + 1]) / 2
}
function label (config) {
    if (config == "handlers-1")
        return "distributed, 1 handler"
    if (config ~ /^handlers-/)
        return "distributed, " substr (config, 10) " handlers"
    return config
}
function short (config) {
    if (config ~ /^handlers-/)
        return substr (config, 10) (config == "handlers-1" ? " handler" : " handlers")
    return config
}
function thousands (n,    s) {
    s = sprintf ("%.0f", n)
    while (s ~ /[0-9][0-9][0-9][0-9]/)
        sub (/[0-9][0-9][0-9]($|,)/, ",&", s)
    return s
}
{
    delete field
    for (i = 1; i <= NF; i++)
        field [substr ($i, 1, index ($i, "=") - 1)] = substr ($i, index ($i, "=") + 1)
    w = field ["workload"]
    key = w SUBSEP field ["config"]
    if (!(w in agencies)) {
        order [++workloads] = w
        agencies [w] = field ["agencies"]
        bets [w] = field ["bets"]
    }
    if (!(key in runs))
        config [w, ++configs [w]] = field ["config"]
    n = ++runs [key]
    split ("bets_per_s rtt_p50_us rtt_p99_us draw_ms total_s slowest_over_median connect_max_ms", names, " ")
    for (i = 1; i in names; i++)
        value [names [i], key, n] = field [names [i]]
    split (field ["rss"], processes, ",")
    for (i = 1; i in processes; i++) {
        split (processes [i], pair, ":")
        kind = pair [1]
        sub (/-[0-9]+$/, "", kind)
        if (!((key, kind) in peak))
            kinds [key] = kinds [key] (kinds [key] ? " " : "") kind
        if (pair [2] + 0 > peak [key, kind])
            peak [key, kind] = pair [2] + 0
        count [key, kind, n]++
        many [key, kind] = count [key, kind, n]
    }
}
END {
    printf "" > plot_data
    for (o = 1; o <= workloads; o++) {
        w = order [o]
        title = (w == "real" ? "real data" : "generated") ": " thousands(agencies [w]) \
                " agencies, " thousands(bets [w]) " bets"
        printf "### %s\n\n", title
        print "| server | runs | bets/s | vs baseline | vs embedded | round trip p50 / p99 (ms) | draw (ms) | last winners answer (s) | slowest / median agency | connect max (ms) | peak RSS (MB) |"
        print "|---|---|---|---|---|---|---|---|---|---|---|"
        base = (w SUBSEP "baseline") in runs ? median("bets_per_s", w SUBSEP "baseline") : 0
        embedded = (w SUBSEP "embedded") in runs ? median("bets_per_s", w SUBSEP "embedded") : 0
        printf "# %s\n", title >> plot_data
        for (c = 1; c <= configs [w]; c++) {
            key = w SUBSEP config [w, c]
            rate = median("bets_per_s", key)
            split (kinds [key], list, " ")
            memory = ""
            for (k = 1; k in list; k++)
                memory = memory (memory ? ", " : "") list [k] " " \
                         (many [key, list [k]] > 1 ? many [key, list [k]] " x " : "") \
                         sprintf ("%.0f", peak [key, list [k]] / 1024)
            printf "| %s | %d | %s | %s | %s | %.2f / %.2f | %.0f | %.2f | %.2f | %.1f | %s |\n",
                   label(config [w, c]), runs [key], thousands(rate),
                   base ? sprintf ("%.2f", rate / base) : "-",
                   embedded && config [w, c] ~ /^handlers-/ ? sprintf ("%.2f", rate / embedded) : "-",
                   median("rtt_p50_us", key) / 1000, median("rtt_p99_us", key) / 1000,
                   median("draw_ms", key), median("total_s", key),
                   median("slowest_over_median", key), median("connect_max_ms", key), memory
            printf "\"%s\" %.0f %d\n", short(config [w, c]), rate,
                   config [w, c] == "baseline" ? 10066329 : 3368652 >> plot_data
        }
        printf "\n\n" >> plot_data
        print ""
    }
    print "set terminal pngcairo size " 520 * workloads ",400 font \",9\"" > plot_script
    print "set output \"" png "\"" >> plot_script
    print "set multiplot layout 1," workloads " title \"bets/s, median of the rounds: ours (blue; N handlers: distributed) against the baseline (grey)\"" >> plot_script
    print "set style fill solid 0.85 border -1\nset boxwidth 0.7\nset yrange [0:*]\nset grid ytics" >> plot_script
    print "set format y \"%.1s%c\"\nset xtics nomirror" >> plot_script
    for (o = 1; o <= workloads; o++) {
        w = order [o]
        if (w == "real")
            printf "set title \"real data, %s agencies\"\n", agencies [w] >> plot_script
        else
            printf "set title \"generated, %s x %s bets\"\n", thousands(agencies [w]), \
                   thousands(bets [w] / agencies [w]) >> plot_script
        printf "plot \"%s\" index %d using 0:2:3:xtic(1) with boxes lc rgb variable notitle, \\\n", plot_data, o - 1 >> plot_script
        printf "     \"\" index %d using 0:2:(sprintf(\"%%.2fM\", $2 / 1e6)) with labels offset 0,0.7 notitle\n", o - 1 >> plot_script
    }
    print "unset multiplot" >> plot_script
}
EOF
cat >> "$table" <<EOF
A ZeroMQ hop on this machine (\`lottery-hop\`: a 100-byte message bounced
$hop_rounds times between two PAIR sockets; the median one-way time):

| hop | both ends on one CPU | each end on a CPU of its own |
|---|---|---|
EOF
awk -F' [|] ' '
    { split ($4, f, ": "); us [$1, $2] = f [2] " µs" }
    function cell (hop, cpus) {
        return ((hop, cpus) in us) ? us [hop, cpus] : "-"
    }
    END {
        print "| inproc: two threads of one process (embedded) | " \
              cell("hop: inproc", "cpus: same") " | " cell("hop: inproc", "cpus: other") " |"
        print "| tcp over loopback: two processes (distributed) | " \
              cell("hop: tcp", "cpus: same") " | " cell("hop: tcp", "cpus: other") " |"
    }' "$hops" >> "$table"
cat >> "$table" <<EOF

![bets/s per workload and configuration](benchmarks.png)
<!-- bench:end -->
EOF
gnuplot "$out/plot.gp" || s_die "gnuplot failed; see $out/plot.gp"

# Only what lies between the markers is replaced; a new file gets a
# heading for the analysis that goes around them.
if [ ! -f "$doc" ] || ! grep -q '^<!-- bench:begin -->$' "$doc"; then
    [ -f "$doc" ] || printf '# Benchmarks\n\nAnalysis goes outside the markers: `make bench` rewrites only what lies between them.\n\n' > "$doc"
    cat "$table" >> "$doc"
else
    awk -v table="$table" '
        /^<!-- bench:begin -->$/ { while ((getline line < table) > 0) print line; skip = 1 }
        !skip { print }
        /^<!-- bench:end -->$/ { skip = 0 }
    ' "$doc" > "$doc.new"
    mv "$doc.new" "$doc"
fi
echo "bench: success in ${seconds} s: $doc, $plot"
