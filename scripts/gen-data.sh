#!/bin/sh
# gen-data.sh DIR AGENCIES BETS [SEED]: writes DIR/agency-N.csv, BETS bets
# each, deterministically (the same arguments give the same bytes). LF line
# ends, UTF-8 names with accents, apostrophes and spaces; about one bet in
# 997 plays the winning number 7574.
set -eu
dir=$1 agencies=$2 bets=$3 seed=${4:-1}
mkdir -p "$dir"
n=1
while [ "$n" -le "$agencies" ]; do
    awk -v agency="$n" -v bets="$bets" -v seed="$seed" 'BEGIN {
        split("Valentina,Santiago,José,María Inés,Thiago Agustín,Zoë,Lucía,Ángel", first, ",")
        split("Vera,Álvarez,O'"'"'Neil,Núñez,de la Fuente,Abadía,Borges,Müller", last, ",")
        state = (seed * 7919 + agency * 104729) % 2147483647
        for (i = 0; i < bets; i++) {
            state = (state * 48271) % 2147483647; a = state
            state = (state * 48271) % 2147483647; b = state
            number = (a % 997 == 0) ? 7574 : b % 10000
            if (number == 7574 && a % 997 != 0) number = 7575
            printf "%s,%s,%d,%04d-%02d-%02d,%d\n", first[a % 8 + 1], last[b % 8 + 1],
                   20000000 + (a + b) % 30000000, 1940 + a % 60, 1 + b % 12, 1 + a % 28, number
        }
    }' > "$dir/agency-$n.csv"
    n=$((n + 1))
done
