#!/bin/sh
# make bench (after bench.sh), make bench-auth: bench-auth.sh [ROUNDS]
#
# What authenticated agencies cost: the embedded server with AGENCY_AUTH
# off, every agency our client on the plain port, against required, every
# agency our client on the CURVE port with its own key (bin/lottery-enroll),
# the runs alternating, ROUNDS (3) of each. The load: 50 agencies x 200,000
# generated bets (scripts/gen-data.sh, cached in .run/bench/data as
# bench.sh does), bin/lottery-client v2 with its defaults but 100 bets a
# chunk, all agencies at once; the server with BETS_FSYNC=true, as in
# bench.sh. Each run is checked: every client exits 0, the bets file has
# every bet, the winners add up to the same in both modes. The figure:
# all bets over the time from starting the clients to the server's
# `sorteo` line (every agency finished). It rewrites what lies between the
# bench-auth markers of docs/benchmarks.md.
set -euf
bench_name=bench-auth
. "$(dirname "$0")/bench-lib.sh"
rounds=${1:-3}
agencies=50 per=200000
out=.run/bench-auth
data=.run/bench/data/${agencies}x$per
doc=docs/benchmarks.md
results=$out/results.txt
server_pid=

s_cleanup () {
    [ -z "$server_pid" ] || kill -TERM "$server_pid" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap s_cleanup EXIT
trap 'exit 130' INT TERM

s_now () {
    date +%s.%N
}

# s_run MODE ROUND: one run, its line appended to results.
s_run () {
    mode=$1 round=$2
    run=$out/runs/$mode-$round
    rm -rf "$run" && mkdir -p "$run"
    bets=$run/bets.csv
    env SERVER_PORT=0 SECURE_PORT=0 SERVER_LISTEN_BACKLOG=1024 BETS_FSYNC=true \
        AGENCIES=$agencies BETS_FILE="$bets" AGENCY_AUTH="$mode" \
        AGENCY_CERT="$out/keys/server/secret/agencies" AGENCY_KEYS="$out/keys/server/enrolled" \
        bin/lottery-server > "$run/server.log" 2>&1 &
    server_pid=$!
    s_value "$run/server.log" "action: escuchar | result: success" port
    port=$value
    secure=0
    if [ "$mode" = required ]; then
        s_value "$run/server.log" "| socket: agencies_curve | mode: bind" endpoint
        secure=${value##*:}
    fi
    began=$(s_now)
    pids=
    for n in $(seq 1 $agencies); do
        auth=
        [ "$mode" = off ] || auth="CLI_AUTH_CERT=$out/keys/agency-$n/agency_secret
            CLI_AUTH_SERVER=$out/keys/agency-$n/server.pub CLI_AUTH_ADDRESS=127.0.0.1:$secure"
        env CLI_ID=$n CLI_DATA_FILE="$data/agency-$n.csv" CLI_SERVER_ADDRESS="127.0.0.1:$port" \
            CLI_BATCH_MAXAMOUNT=100 $auth bin/lottery-client > "$run/client-$n.log" 2>&1 &
        pids="$pids $!"
    done
    s_value "$run/server.log" "action: sorteo | result: success" detalle
    took=$(echo "$(s_now) - $began" | bc -l)
    for pid in $pids; do
        wait "$pid" || s_die "a client of $mode round $round failed; see $run"
    done
    kill -TERM "$server_pid"
    wait "$server_pid" || s_die "the server of $mode round $round exited non-zero; see $run"
    server_pid=
    stored=$(wc -l < "$bets")
    [ "$stored" -eq $((agencies * per)) ] || s_die "$stored bets stored, not $((agencies * per)); see $run"
    winners=$(for n in $(seq 1 $agencies); do cat "$run/client-$n.log"; done \
              | sed -n 's/.*cant_ganadores: \([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
    rate=$(echo "$stored / $took" | bc -l)
    printf 'mode=%s round=%s seconds=%.2f bets_per_s=%.0f winners=%s\n' \
        "$mode" "$round" "$took" "$rate" "$winners" >> "$results"
    rm -f "$bets" "$bets.journal"
    printf 'bench-auth: %s round %s: %.0f bets/s (%.2f s)\n' "$mode" "$round" "$rate" "$took"
}

[ -x bin/lottery-server ] && [ -x bin/lottery-enroll ] || s_die "build first (make)"
if [ ! -d "$data" ]; then
    echo "bench-auth: generating $agencies agencies of $per bets in $data"
    rm -rf "$data.tmp"
    sh scripts/gen-data.sh "$data.tmp" $agencies $per
    mv "$data.tmp" "$data"
fi
rm -rf "$out" && mkdir -p "$out/runs"
bin/lottery-enroll "$out/keys" --agencies $agencies > /dev/null
for round in $(seq 1 "$rounds"); do
    s_run off "$round"
    s_run required "$round"
done
[ "$(cut -d' ' -f5 "$results" | sort -u | wc -l)" -eq 1 ] \
    || s_die "the winners differ between runs: $results"

# The medians, and the table between the markers
table=$out/table.md
awk -v rounds="$rounds" '
    function median (list, n,    i, j, t, v) {
        for (i = 1; i <= n; i++) {
            v = list [i] + 0
            for (j = i - 1; j >= 1 && t [j] > v; j--)
                t [j + 1] = t [j]
            t [j + 1] = v
        }
        return n % 2 ? t [(n + 1) / 2] : (t [n / 2] + t [n / 2 + 1]) / 2
    }
    {
        split ($1, m, "="); split ($4, r, "="); split ($3, s, "=")
        rate [m [2], ++count [m [2]]] = r [2]
        secs [m [2], count [m [2]]] = s [2]
    }
    END {
        for (i = 1; i <= count ["off"]; i++) { a [i] = rate ["off", i]; as [i] = secs ["off", i] }
        for (i = 1; i <= count ["required"]; i++) { b [i] = rate ["required", i]; bs [i] = secs ["required", i] }
        off = median(a, count ["off"]); on = median(b, count ["required"])
        print "<!-- bench-auth:begin -->"
        print "<!-- Generated by `make bench` (scripts/bench-auth.sh); edits between the markers are lost. -->"
        print ""
        print "| agencies | runs | bets/s | seconds | vs off |"
        print "|---|---|---|---|---|"
        printf "| `AGENCY_AUTH=off`, plain port | %d | %.0f | %.2f | 1.00 |\n", count ["off"], off, median(as, count ["off"])
        printf "| `AGENCY_AUTH=required`, CURVE port | %d | %.0f | %.2f | %.2f |\n", count ["required"], on, median(bs, count ["required"]), on / off
        print ""
        print "<!-- bench-auth:end -->"
    }' "$results" > "$table"
cat "$table"
if grep -q '^<!-- bench-auth:begin -->$' "$doc"; then
    awk -v table="$table" '
        /^<!-- bench-auth:begin -->$/ { while ((getline line < table) > 0) print line; skip = 1 }
        !skip { print }
        /^<!-- bench-auth:end -->$/ { skip = 0 }
    ' "$doc" > "$doc.new"
    mv "$doc.new" "$doc"
else
    { printf '\n## What authenticated agencies cost\n\n'; cat "$table"; } >> "$doc"
fi
echo "bench-auth: success: $doc"
