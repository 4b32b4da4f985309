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
# The load generator also reads, from /proc, the CPU time and context
# switches (every thread) the server processes spent over the run; each
# run's folder keeps them by thread too (threads.txt, since the start).
#
# full: the real data (DATA_DIR, ../shared/data; skipped when absent), 50
# agencies x 200,000 bets, 1,000 x 1,000 and 5,000 x 100 (the last also
# with two front-ends), generated once and cached in .run/bench/data,
# BENCH_ROUNDS rounds (3). It rewrites what lies between the markers of
# docs/benchmarks.md for this CPU model (the analysis around them, and
# the tables of other CPU models, are kept) and its plot. After the runs,
# TOOLS/lottery-hop measures what one hop between threads and between
# processes costs here.
# quick: 5 x 2,000 and 20 x 200 generated, the baseline, embedded and one
# handler (20 x 200 also with two front-ends), one round, all in
# .run/bench-quick: the harness, kept from rot.
#
# A selection, for comparing two servers quickly (full only; the report
# then goes to .run/bench/benchmarks.md, docs/ stay as they are):
#   BENCH_WORKLOADS   workloads, e.g. "50x200000 5000x100" (AxB: A agencies
#                     of B bets, generated; "real": DATA_DIR)
#   BENCH_CONFIGS     configurations, the same for every workload:
#                     baseline, embedded, handlers-H (distributed, H
#                     handler processes), handlers-H-frontends-F (and F
#                     front-ends, the agencies spread over them), and
#                     other-CONFIG, CONFIG with BENCH_SERVER's build
#   BENCH_SERVER      another build's lottery-server (its lottery-broker
#                     and the rest beside it): with no BENCH_CONFIGS, every
#                     configuration of ours runs again with it, alternating
# and BENCH_BACKLOG (SERVER_LISTEN_BACKLOG: the larger of 2048 and the
# agencies), BENCH_TIMEOUT (300 s a load generator run).
set -euf
bench_name=bench
. "$(dirname "$0")/bench-lib.sh"
mode=$1 tools=$2
other=${BENCH_SERVER:-}
selected=${BENCH_WORKLOADS:-}${BENCH_CONFIGS:-}$other
case $mode in
    full)
        target=bench out=.run/bench doc=docs/benchmarks.md plot_dir=docs
        [ -z "$selected" ] || doc=$out/benchmarks.md plot_dir=$out
        rounds=${BENCH_ROUNDS:-3}
        workloads=${BENCH_WORKLOADS:-"real 50x200000 1000x1000 5000x100"}
        hop_rounds=20000 ;;
    quick)
        target=bench-quick out=.run/bench-quick doc=.run/bench-quick/benchmarks.md
        plot_dir=.run/bench-quick
        rounds=1
        workloads="5x2000 20x200"
        hop_rounds=2000 ;;
    *)
        echo "usage: bench.sh full|quick TOOLS" >&2
        exit 2 ;;
esac
if [ -n "$other" ]; then
    [ -x "$other" ] || s_die "BENCH_SERVER=$other is no program"
    other_bin=$(dirname "$other")
fi
real_data=${DATA_DIR:-../shared/data}
runs=$out/runs                  # a folder of logs per run; the bets file
results=$out/results.txt        # one key=value line per run
bets=$runs/bets.csv
timeout=${BENCH_TIMEOUT:-300}   # seconds one load generator run may take
any="WORK_ENDPOINT=tcp://127.0.0.1:* RECORDS_ENDPOINT=tcp://127.0.0.1:*
     RESULTS_ENDPOINT=tcp://127.0.0.1:* EVENTS_ENDPOINT=tcp://127.0.0.1:*
     WINNERS_ENDPOINT=tcp://127.0.0.1:* BROKER_ENDPOINT=tcp://127.0.0.1:*"
pids=                           # NAME:PID of each server process running

# Every connection is a file: the soft limit as high as the hard one
# allows, for the servers and the load generator alike.
files=$(ulimit -H -n)
[ "$files" != unlimited ] || files=$(cat /proc/sys/fs/nr_open)
ulimit -S -n "$files" 2>/dev/null || true

# s_configs WORKLOAD: the configurations it runs, in their order.
s_configs () {
    if [ -n "${BENCH_CONFIGS:-}" ]; then
        echo "$BENCH_CONFIGS"
        return
    fi
    case $mode-$1 in
        quick-20x200) list="baseline embedded handlers-1 handlers-1-frontends-2" ;;
        quick-*)      list="baseline embedded handlers-1" ;;
        *-5000x100)   list="baseline embedded handlers-2 handlers-2-frontends-2" ;;
        *)            list="baseline embedded handlers-1 handlers-2 handlers-4" ;;
    esac
    [ -n "$other" ] || { echo "$list"; return; }
    for config in $list; do
        [ "$config" = baseline ] && printf '%s ' "$config" || printf '%s other-%s ' "$config" "$config"
    done
    echo
}

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

# s_servers CONFIG: starts the server side and sets servers to the
# addresses agencies connect to. Distributed, the binders go first and the
# others learn their ports from their logs.
s_servers () {
    bin=bin server=bin/lottery-server shape=$1
    case $shape in
        other-*)
            bin=$other_bin server=$other shape=${shape#other-} ;;
    esac
    fronts=
    case $shape in
        baseline)
            s_start baseline "$tools/lottery-baseline"
            s_value "$run/baseline.log" "action: escuchar | result: success" port
            servers=127.0.0.1:$value
            return ;;
        embedded)
            s_start server "$server"
            fronts=server ;;
        handlers-*)
            handlers=${shape#handlers-} frontends=1
            case $handlers in
                *-frontends-*) frontends=${handlers#*-frontends-} handlers=${handlers%%-*} ;;
            esac
            bound=
            s_start coordinator "$bin/lottery-coordinator" $any
            s_bound coordinator events EVENTS
            s_bound coordinator winners WINNERS
            s_start broker "$bin/lottery-broker" $any $bound
            s_bound broker frontends BROKER
            s_bound broker work WORK
            s_bound broker results RESULTS
            for n in $(seq 1 "$frontends"); do
                name=frontend
                [ "$frontends" -eq 1 ] || name=frontend-$n
                s_start "$name" "$bin/lottery-frontend" $bound
                fronts="$fronts $name"
            done
            s_start persister "$bin/lottery-persister" $any $bound
            s_bound persister records RECORDS
            for n in $(seq 1 "$handlers"); do
                s_start "handler-$n" "$bin/lottery-handler" $bound
            done ;;
        *)
            s_die "no configuration $1 (BENCH_CONFIGS: baseline, embedded, handlers-H," \
                  "handlers-H-frontends-F, other-...)" ;;
    esac
    for entry in $pids; do
        s_value "$run/${entry%%:*}.log" "action: start | result: success" program
    done
    servers=
    for name in $fronts; do
        s_value "$run/$name.log" "action: escuchar | result: success" port
        servers="$servers${servers:+,}127.0.0.1:$value"
    done
}

# s_threads NAME PID: a line per thread of the process, into the run's
# threads.txt: its name, its CPU seconds and context switches since the
# process started (where the run's went: which actor wakes most).
s_threads () {
    for task in $(ls "/proc/$2/task" 2>/dev/null); do
        task=/proc/$2/task/$task
        awk -v process="$1" -v tick="$(getconf CLK_TCK)" '
            FILENAME ~ /stat$/ { sub (/.*\) /, ""); cpu = ($12 + $13) / tick }
            /^Name:/ { name = $2 }
            /^voluntary_ctxt_switches:/ { voluntary = $2 }
            /^nonvoluntary_ctxt_switches:/ { involuntary = $2 }
            END { printf "%s %s cpu_s=%.2f voluntary=%d involuntary=%d\n",
                         process, name, cpu, voluntary, involuntary }
        ' "$task/stat" "$task/status" 2>/dev/null || true
    done >> "$run/threads.txt"
}

# Reads each server process's peak RSS (kB) into rss and its threads'
# counts, then stops them with SIGTERM in compose's order; each must still
# run, and exit 0.
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
        s_threads "${entry%%:*}" "${entry#*:}"
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

# s_overflows: the kernel's count of connections its full accept queues
# turned away (TcpExt ListenOverflows, this network namespace's, so other
# work's too): each such connect waits a second or more for a SYN retry.
s_overflows () {
    awk '/^TcpExt:/ { if (!names) { split ($0, name); names = 1; next }
                      for (i = 2; i <= NF; i++) if (name [i] == "ListenOverflows") print $i }' \
        /proc/net/netstat 2>/dev/null || echo 0
}

# s_run WORKLOAD DATA AGENCIES CONFIG ROUND
s_run () {
    workload=$1 data=$2 agencies=$3 config=$4 round=$5
    run=$runs/$workload-$config-$round
    backlog=${BENCH_BACKLOG:-$((agencies > 2048 ? agencies : 2048))}
    mkdir -p "$run"
    rm -f "$bets" "$bets.journal"
    s_servers "$config"
    watch=
    for entry in $pids; do watch="$watch${watch:+,}${entry#*:}"; done
    overflows=$(s_overflows)
    if ! "$tools/lottery-loadgen" --server "$servers" --data "$data" \
            --agencies "$agencies" --bets-file "$bets" --output "$run/result.txt" \
            --timeout "$timeout" --watch "$watch" > "$run/loadgen.log" 2>&1; then
        cat "$run/loadgen.log" >&2
        grep -h "result: fail" "$run"/*.log | head -n 20 >&2 || true
        s_die "$workload, $config, round $round: see $run"
    fi
    overflows=$(($(s_overflows) - ${overflows:-0}))
    s_stop
    rm -f "$bets" "$bets.journal"
    echo "workload=$workload config=$config round=$round $(cat "$run/result.txt") rss=$rss" \
         "listen_overflows=$overflows" >> "$results"
    echo "bench: $workload $config round $round: $(tail -n 1 "$run/loadgen.log" \
          | sed 's/^loadgen: //'); server CPU $(sed -n 's/.*cpu_per_10m_s=\([^ ]*\).*/\1/p' \
          "$run/result.txt") s per 10 M bets, $(sed -n 's/.*switches_per_chunk=\([^ ]*\).*/\1/p' \
          "$run/result.txt") switches per chunk, $overflows listen overflows"
}

# s_data WORKLOAD: sets data to its folder and agencies, generating
# AxB (A agencies of B bets) once; empty data when there is none. Fails
# when the servers or the load generator could not open a connection of
# every agency at once (and the servers one more, for its winners query).
s_data () {
    if [ "$1" = real ]; then
        data=$real_data agencies=5
        for n in 1 2 3 4 5; do
            [ -f "$real_data/agency-$n.csv" ] || data=
        done
        return
    fi
    agencies=${1%x*} data=$out/data/$1
    need=$((agencies * 2 + 256))
    [ "$(ulimit -n)" -ge $need ] \
        || s_die "$1 needs $need open files a process; the limit is $(ulimit -n):" \
                 "raise the hard limit (ulimit -Hn, LimitNOFILE, docker's --ulimit nofile)"
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
        for config in $(s_configs "$workload"); do
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

# The report: the table between this CPU model's markers of $doc, and
# its plot; each CPU model keeps a table of its own.
table=$out/table.md
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
cpu=${cpu:-unknown CPU}
slug=$(echo "$cpu" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9]\{1,\}/-/g; s/^-//; s/-$//')
plot=$plot_dir/benchmarks-$slug.png
filesystem=$(df -T "$runs" | awk 'NR == 2 { print $2 " (" $1 ")" }')
somaxconn=$(cat /proc/sys/net/core/somaxconn 2>/dev/null || echo "?")
cat > "$table" <<EOF
<!-- bench:begin: $cpu -->
<!-- Generated by \`make $target\` (scripts/bench.sh) on $cpu; edits between the markers are lost. -->

- Machine: $(nproc) cores, $cpu, $(uname -sr); the bets file on
  $filesystem. Other work may have shared the machine.
- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); the whole run took ${seconds} s.
- Load: every agency speaks v1 stop-and-wait, 100 bets a chunk (8 kB at
  most), all agencies connecting at once. Servers: \`BETS_FSYNC=true\`,
  \`SERVER_LISTEN_BACKLOG\` the larger of 2048 and the agencies (the kernel
  caps it at \`net.core.somaxconn\`, $somaxconn here), \`MAX_CONNECTIONS\` twice
  the agencies (at least 1024), open files up to $(ulimit -n), the rest at their
  defaults (embedded: two handler threads; \`LOG_SETTLE\` 0, as outside
  docker). Distributed with F front-ends: agency n connects to front-end
  ((n - 1) mod F) + 1.
- Figures: medians over the rounds. vs baseline: over the baseline's median
  for the same workload in this run, the runs alternating; vs embedded:
  distributed over embedded, likewise. bets/s: all bets
  over the time from the first connection to the last 'O'. Draw: from the
  last 'O' to the last winners answer. Slowest / median: the agencies' upload
  times. Listen overflows: connects the kernel's full accept queues turned
  away during the run (\`ListenOverflows\` of \`/proc/net/netstat\`, the
  machine's: other work's count too); each waits a second or more for its SYN
  to be sent again. Peak RSS: VmHWM of each server process, the largest over
  the rounds.
- Server CPU: user and system time of every server process (\`/proc/PID/stat\`)
  over the run, from before the first connection to the last winners answer,
  per 10 M bets; CPU vs embedded is distributed's CPU per bet over
  embedded's. Switches per chunk: voluntary and involuntary context switches
  of every thread of every server process (\`/proc/PID/task/*/status\`) over
  the run, over the chunks sent; in brackets the voluntary ones alone (a
  thread waiting for work), since involuntary ones (preemption) grow with
  other work on the machine.
- Every run was checked: every agency had its winners answer, the bets file
  was checked line by line against the input, and each agency's winners.
EOF
[ -z "$other" ] || cat >> "$table" <<EOF
- other: the same configuration with \`$other\` (and the programs beside
  it); other / ours: its bets/s and its CPU per bet over ours, alternating.
EOF
echo >> "$table"
awk -v plot_data="$out/plot.dat" -v plot_script="$out/plot.gp" -v png="$plot" \
    -v cpu="$cpu" -f /dev/stdin "$results" >> "$table" <<'EOF'
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
# handlers-H[-frontends-F], possibly after other-: H and F
function shape (config, part,    parts) {
    sub (/^other-/, "", config)
    split (config, parts, "-")
    return part == "handlers" ? parts [2] : (parts [4] ? parts [4] : 1)
}
function label (config,    prefix, text) {
    prefix = config ~ /^other-/ ? "other: " : ""
    sub (/^other-/, "", config)
    if (config !~ /^handlers-/)
        return prefix config
    text = "distributed, "
    if (shape(config, "frontends") > 1)
        text = text shape(config, "frontends") " front-ends, "
    return prefix text shape(config, "handlers") (shape(config, "handlers") == 1 ? " handler" : " handlers")
}
function short (config,    prefix, text) {
    prefix = config ~ /^other-/ ? "other " : ""
    sub (/^other-/, "", config)
    if (config !~ /^handlers-/)
        return prefix config
    text = shape(config, "frontends") > 1 ? shape(config, "frontends") "fe " : ""
    return prefix text shape(config, "handlers") "h"
}
function thousands (n,    s) {
    s = sprintf ("%.0f", n)
    while (s ~ /[0-9][0-9][0-9][0-9]/)
        sub (/[0-9][0-9][0-9]($|,)/, ",&", s)
    return s
}
function ratio (a, b) {
    return b > 0 ? sprintf ("%.2f", a / b) : "-"
}
{
    delete field
    for (i = 1; i <= NF; i++)
        field [substr ($i, 1, index ($i, "=") - 1)] = substr ($i, index ($i, "=") + 1)
    w = field ["workload"]
    key = w SUBSEP field ["config"]
    if (field ["config"] ~ /^other-/)
        others = 1
    if (!(w in agencies)) {
        order [++workloads] = w
        agencies [w] = field ["agencies"]
        bets [w] = field ["bets"]
    }
    if (!(key in runs))
        config [w, ++configs [w]] = field ["config"]
    n = ++runs [key]
    split ("bets_per_s rtt_p50_us rtt_p99_us draw_ms total_s slowest_over_median connect_max_ms cpu_per_10m_s switches_per_chunk voluntary_per_chunk listen_overflows", names, " ")
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
                " agencies, " thousands(bets [w]) " bets, " cpu
        printf "### %s\n\n", title
        printf "| server | runs | bets/s | vs baseline | vs embedded | server CPU per 10 M bets (s) | CPU vs baseline | CPU vs embedded | switches per chunk (voluntary) | round trip p50 / p99 (ms) | draw (ms) | last winners answer (s) | slowest / median agency | connect max (ms) | listen overflows | peak RSS (MB) |%s\n",
               others ? " other / ours: bets/s, CPU |" : ""
        printf "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|%s\n", others ? "---|" : ""
        base = w SUBSEP "baseline"
        base_rate = base in runs ? median("bets_per_s", base) : 0
        base_cpu = base in runs ? median("cpu_per_10m_s", base) : 0
        printf "# %s\n", title >> plot_data
        for (c = 1; c <= configs [w]; c++) {
            name = config [w, c]
            key = w SUBSEP name
            rate = median("bets_per_s", key)
            cost = median("cpu_per_10m_s", key)
            embedded = w SUBSEP (name ~ /^other-/ ? "other-" : "") "embedded"
            distributed = name ~ /handlers-/ && embedded in runs
            ours = w SUBSEP substr (name, 7)
            split (kinds [key], list, " ")
            memory = ""
            for (k = 1; k in list; k++)
                memory = memory (memory ? ", " : "") list [k] " " \
                         (many [key, list [k]] > 1 ? many [key, list [k]] " x " : "") \
                         sprintf ("%.0f", peak [key, list [k]] / 1024)
            printf "| %s | %d | %s | %s | %s | %.2f | %s | %s | %.3f (%.3f) | %.2f / %.2f | %.0f | %.2f | %.2f | %.1f | %.0f | %s |",
                   label(name), runs [key], thousands(rate), ratio(rate, base_rate),
                   distributed ? ratio(rate, median("bets_per_s", embedded)) : "-",
                   cost, ratio(cost, base_cpu),
                   distributed ? ratio(cost, median("cpu_per_10m_s", embedded)) : "-",
                   median("switches_per_chunk", key), median("voluntary_per_chunk", key),
                   median("rtt_p50_us", key) / 1000, median("rtt_p99_us", key) / 1000,
                   median("draw_ms", key), median("total_s", key),
                   median("slowest_over_median", key), median("connect_max_ms", key),
                   median("listen_overflows", key), memory
            if (others)
                printf " %s |", name ~ /^other-/ && ours in runs \
                       ? ratio(rate, median("bets_per_s", ours)) " / " \
                         ratio(cost, median("cpu_per_10m_s", ours)) : "-"
            printf "\n"
            printf "\"%s\" %.0f %d\n", short(name), rate,
                   name == "baseline" ? 10066329 : name ~ /^other-/ ? 14251782 : 3368652 >> plot_data
        }
        printf "\n\n" >> plot_data
        print ""
    }
    print "set terminal pngcairo size " 520 * workloads ",400 font \",9\"" > plot_script
    print "set output \"" png "\"" >> plot_script
    print "set multiplot layout 1," workloads " title \"bets/s on " cpu ", median of the rounds: ours (blue; Nh: distributed, N handlers; Nfe: N front-ends) against the baseline (grey)" (others ? " and other (orange)" : "") "\"" >> plot_script
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

![bets/s per workload and configuration on $cpu]($(basename "$plot"))
<!-- bench:end: $cpu -->
EOF
gnuplot "$out/plot.gp" || s_die "gnuplot failed; see $out/plot.gp"

# Only what lies between this CPU model's markers is replaced; a model
# without a table gets one after the last table, and a new file a heading
# for the analysis that goes around them.
begin="<!-- bench:begin: $cpu -->" end="<!-- bench:end: $cpu -->"
if [ ! -f "$doc" ]; then
    printf '# Benchmarks\n\nAnalysis goes outside the markers: `make bench` rewrites only what lies between them.\n\n' > "$doc"
fi
if grep -qxF -- "$begin" "$doc"; then
    awk -v table="$table" -v begin="$begin" -v end="$end" '
        $0 == begin { while ((getline line < table) > 0) print line; skip = 1 }
        !skip { print }
        $0 == end { skip = 0 }
    ' "$doc" > "$doc.new"
elif grep -q '^<!-- bench:end' "$doc"; then
    awk -v table="$table" '
        { line [NR] = $0 }
        /^<!-- bench:end/ { last = NR }
        END {
            for (i = 1; i <= NR; i++) {
                print line [i]
                if (i == last) {
                    print ""
                    while ((getline row < table) > 0) print row
                }
            }
        }
    ' "$doc" > "$doc.new"
else
    { cat "$doc"; cat "$table"; } > "$doc.new"
fi
mv "$doc.new" "$doc"
echo "bench: success in ${seconds} s: $doc, $plot"
