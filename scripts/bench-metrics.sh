#!/bin/sh
# make bench-metrics: bench-metrics.sh TOOLS [ROUNDS]
#
# What the metrics cost: the embedded server (bin/lottery-server) with
# METRICS_PORT unset (off: no registry, every update a NULL check) against
# METRICS_PORT set and scraped every second meanwhile (more often than
# Prometheus's 15 s default), the runs alternating, ROUNDS (5) of each, so
# that what else runs on the machine weighs on both alike. The load is
# make bench's: 50 agencies x 200,000 generated bets (cached in
# .run/bench/data), TOOLS/lottery-loadgen, v1 stop-and-wait with 100 bets
# a chunk, BETS_FSYNC=true; each run checked by the load generator (the
# bets file line by line, the winners). Prints each run and the medians
# of bets/s and of the server's CPU seconds (user and system, from /proc:
# steadier than the wall clock on a machine others share); the issue's
# target is at most 2 % (bets/s on/off >= 0.98, CPU on/off <= 1.02).
set -euf
bench_name=bench-metrics
. "$(dirname "$0")/bench-lib.sh"
tools=$1
rounds=${2:-5}
agencies=50 per=200000
out=.run/bench-metrics
data=.run/bench/data/${agencies}x$per
results=$out/results.txt
server_pid= scraper_pid=

s_cleanup () {
    [ -z "$scraper_pid" ] || kill "$scraper_pid" 2>/dev/null || true
    [ -z "$server_pid" ] || kill -TERM "$server_pid" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap s_cleanup EXIT
trap 'exit 130' INT TERM

# s_free_port: a TCP port nothing listens on now.
s_free_port () {
    python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'
}

# s_run MODE ROUND: one run, its line appended to results.
s_run () {
    mode=$1 round=$2
    run=$out/runs/$mode-$round
    rm -rf "$run" && mkdir -p "$run"
    bets=$run/bets.csv
    metrics=
    [ "$mode" = off ] || metrics=METRICS_PORT=$(s_free_port)
    env SERVER_PORT=0 SERVER_LISTEN_BACKLOG=2048 BETS_FSYNC=true AGENCIES=$agencies \
        BETS_FILE="$bets" $metrics bin/lottery-server > "$run/server.log" 2>&1 &
    server_pid=$!
    s_value "$run/server.log" "action: escuchar | result: success" port
    port=$value
    if [ -n "$metrics" ]; then
        (while sleep 1; do
             curl -s -o "$run/scrape.txt" "http://127.0.0.1:${metrics#*=}/metrics" || true
         done) &
        scraper_pid=$!
    fi
    "$tools/lottery-loadgen" --server "127.0.0.1:$port" --data "$data" \
        --agencies $agencies --bets-file "$bets" --output "$run/result.txt" \
        --timeout 600 > "$run/loadgen.log" 2>&1 || s_die "$mode round $round; see $run"
    if [ -n "$scraper_pid" ]; then
        kill "$scraper_pid"
        wait "$scraper_pid" 2>/dev/null || true
        scraper_pid=
        stored=$(awk '/^lottery_bets_stored_total/ { s += $2 } END { print s + 0 }' "$run/scrape.txt")
        [ "$stored" -eq $((agencies * per)) ] \
            || s_die "the last scrape counts $stored bets stored; see $run"
    fi
    cpu=$(awk -v tick="$(getconf CLK_TCK)" '{ sub (/.*\) /, ""); print ($12 + $13) / tick }' \
          "/proc/$server_pid/stat")
    kill -TERM "$server_pid"
    wait "$server_pid" || s_die "the server of $mode round $round exited non-zero; see $run"
    server_pid=
    rm -f "$bets" "$bets.journal"
    echo "mode=$mode round=$round cpu_s=$cpu $(cat "$run/result.txt")" >> "$results"
    echo "bench-metrics: $mode round $round: server CPU ${cpu} s; $(tail -n 1 "$run/loadgen.log" \
          | sed 's/^loadgen: //')"
}

[ -x bin/lottery-server ] && [ -x "$tools/lottery-loadgen" ] || s_die "build first (make)"
command -v curl > /dev/null || s_die "curl is needed to scrape"
s_generate "$data" $agencies $per
rm -rf "$out" && mkdir -p "$out/runs"
for round in $(seq 1 "$rounds"); do
    s_run off "$round"
    s_run on "$round"
done

# The medians of bets/s, and on over off
awk '
    function median (list, n,    i, j, t) {
        for (i = 1; i <= n; i++)
            for (j = i + 1; j <= n; j++)
                if (list [j] < list [i]) { t = list [i]; list [i] = list [j]; list [j] = t }
        return n % 2 ? list [(n + 1) / 2] : (list [n / 2] + list [n / 2 + 1]) / 2
    }
    {
        for (i = 1; i <= NF; i++) {
            split ($i, kv, "=")
            if (kv [1] == "mode") mode = kv [2]
            if (kv [1] == "bets_per_s") rate = kv [2]
            if (kv [1] == "cpu_s") cpu = kv [2]
        }
        runs [mode]++
        rates [mode, runs [mode]] = rate
        cpus [mode, runs [mode]] = cpu
        pairs [runs [mode]] = pairs [runs [mode]] " " mode "=" rate
    }
    END {
        for (m in runs) {
            n = 0
            for (i = 1; i <= runs [m]; i++) list [++n] = rates [m, i]
            med [m] = median (list, n)
            n = 0
            for (i = 1; i <= runs [m]; i++) list [++n] = cpus [m, i]
            cpu_med [m] = median (list, n)
        }
        for (i = 1; i <= runs ["on"]; i++) {
            ratio [i] = rates ["on", i] / rates ["off", i]
            cpu_ratio [i] = cpus ["on", i] / cpus ["off", i]
            printf "bench-metrics: round %d: bets/s on/off %.4f, CPU on/off %.4f\n", i, ratio [i],
                   cpu_ratio [i]
        }
        printf "bench-metrics: median bets/s off %.0f, on %.0f, on/off %.4f (median of the rounds'"'"' ratios %.4f)\n",
               med ["off"], med ["on"], med ["on"] / med ["off"], median (ratio, runs ["on"])
        printf "bench-metrics: median server CPU s off %.2f, on %.2f, on/off %.4f (median of the rounds'"'"' ratios %.4f)\n",
               cpu_med ["off"], cpu_med ["on"], cpu_med ["on"] / cpu_med ["off"],
               median (cpu_ratio, runs ["on"])
    }' "$results" | tee "$out/summary.txt"
