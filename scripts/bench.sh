#!/bin/sh
# make bench: end-to-end ingest rate of the embedded server, five agencies
# at once over loopback, for several batch sizes, with and without
# fdatasync. Uses ../shared/data when present, and always a generated set
# of 5 x 200,000 bets. Prints one line per run: bets, seconds, bets/s.
set -eu
dir=.run/bench
rm -rf "$dir"
mkdir -p "$dir"
port=${BENCH_PORT:-22345}
sh scripts/gen-data.sh "$dir/generated" 5 200000

now () { date +%s.%N; }

bench () {   # bench NAME DATA_DIR MAX_AMOUNT FSYNC
    name=$1 data=$2 amount=$3 fsync=$4
    rm -f "$dir/bets.csv" "$dir/bets.csv.journal"
    SERVER_PORT=$port AGENCIES=5 BETS_FILE=$dir/bets.csv BETS_FSYNC=$fsync \
        bin/lottery-server > "$dir/server.log" 2>&1 &
    server=$!
    start=$(now)
    pids=
    for n in 1 2 3 4 5; do
        CLI_ID=$n CLI_DATA_FILE=$data/agency-$n.csv CLI_BATCH_MAXAMOUNT=$amount \
        CLI_SERVER_ADDRESS=127.0.0.1:$port CLI_LOOP_PERIOD=20ms CLI_LOOP_AMOUNT=250 \
            bin/lottery-client > "$dir/client-$n.log" 2>&1 &
        pids="$pids $!"
    done
    for pid in $pids; do wait "$pid"; done
    end=$(now)
    kill -TERM $server
    wait $server
    bets=$(wc -l < "$dir/bets.csv")
    awk -v n="$name" -v a="$amount" -v f="$fsync" -v b="$bets" -v s="$start" -v e="$end" \
        'BEGIN { printf "%-10s maxAmount %-6s fsync %-5s %8d bets %7.2f s %10.0f bets/s\n",
                 n, a, f, b, e - s, b / (e - s) }'
}

for data in ../shared/data .data; do
    if [ -f "$data/agency-5.csv" ]; then
        for amount in 10 100 65535; do bench real "$data" $amount true; done
        break
    fi
done
for amount in 10 100 65535; do bench generated "$dir/generated" $amount true; done
bench generated "$dir/generated" 65535 false
