#!/bin/sh
# make run: the embedded server and five agencies on this machine.
# Real data from .data/agency-N.csv when all five exist, otherwise data
# generated deterministically. Every program appends to one log, as
# `docker logs` would merge them; the winners are printed at the end.
set -eu
agencies=5
port=${SERVER_PORT:-12345}
run=.run
rm -rf "$run"
mkdir -p "$run"
data=.data
for n in $(seq 1 $agencies); do
    [ -f "$data/agency-$n.csv" ] || data=
done
if [ -z "$data" ]; then
    data=$run/data
    echo "run: no .data/agency-N.csv, generating $agencies agencies of 5000 bets in $data"
    sh scripts/gen-data.sh "$data" $agencies 5000
fi
log=$run/run.log
echo "run: server on port $port, bets file $run/bets.csv, log $log"
SERVER_PORT=$port AGENCIES=$agencies BETS_FILE=$run/bets.csv SERVER_LISTEN_BACKLOG=128 \
    bin/lottery-server >> "$log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' EXIT INT TERM
pids=
for n in $(seq 1 $agencies); do
    CLI_ID=$n CLI_DATA_FILE=$data/agency-$n.csv \
    CLI_SERVER_ADDRESS=127.0.0.1:$port CLI_LOOP_PERIOD=200ms \
        bin/lottery-client >> "$log" 2>&1 &
    pids="$pids $!"
done
status=0
for pid in $pids; do
    wait "$pid" || status=1
done
kill -TERM $server
wait $server || status=1
trap - EXIT INT TERM
grep -E 'action: (config|sorteo|leer_apuestas|consulta_ganadores|ganador) |result: fail' "$log" || true
echo "run: $(grep -c . "$run/bets.csv") bets stored; full log in $log"
[ $status -eq 0 ] && echo "run: success" || echo "run: FAILED (see $log)"
exit $status
