# stack_lib.sh: what test_stack.sh (compose) and test_swarm.sh (Docker
# Swarm) share. Sourced by bash from the repository root; stack_setup
# starts a test. Sets repo, engine and the pass/fail counts.

repo=$(pwd)
engine=$repo/../shared/tools/docker-engine
passed=0
failed=0

ok () { passed=$((passed + 1)); echo "ok - $*"; }
not_ok () { failed=$((failed + 1)); echo "not ok - $*"; }
check () {   # check DESCRIPTION COMMAND...: and returns the command's success
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; return 1; fi
}
finish () {   # finish NAME: the summary line; exit 0 when nothing failed
    echo "$1: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$work"
    [ "$failed" -eq 0 ]
    exit $?
}

# Commands run at exit, the last added first, on this machine's engine.
stack_exit_commands=()
stack_at_exit () {   # stack_at_exit COMMAND
    stack_exit_commands=("$1" "${stack_exit_commands[@]}")
    trap 'unset DOCKER_HOST; for c in "${stack_exit_commands[@]}"; do eval "$c"; done' EXIT
}

# A test's start: its scratch directory (work); a Docker engine, the one
# running or else one started with docker-engine (stopped at exit), or
# SKIP naming WHAT and exit 0; the images; the data (data, 5 agencies):
# ../shared/data when it is there, else 5 x 5000 generated bets.
stack_setup () {   # stack_setup NAME WHAT
    work=$(mktemp -d "/tmp/lottery-$1-XXXXXX")
    if ! docker info >/dev/null 2>&1 && [ -f "$engine" ]; then
        echo "starting a Docker engine with $engine"
        bash "$engine" up >/dev/null 2>"$work/engine.log" && stack_at_exit 'bash "$engine" down'
    fi
    if ! docker info >/dev/null 2>&1; then
        echo "SKIP: no Docker engine could be started here (see $work/engine.log):"
        echo "$2 was not tested"
        exit 0
    fi
    check "images build" make -s docker-build
    data=$repo/../shared/data
    if [ -f "$data/agency-5.csv" ]; then
        data=$(cd "$data" && pwd)
    else
        echo "note: ../shared/data not found, using generated data"
        data=$work/data
        sh scripts/gen-data.sh "$data" 5 5000
    fi
}

# Polls COMMAND every half second until it succeeds or SECONDS pass.
wait_until () {   # wait_until SECONDS COMMAND...
    local deadline=$(( $(date +%s) + $1 ))
    shift
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

# "0 0 ... 0", N times: the exit statuses of N programs that all succeeded
zeros () { seq "$1" | sed 's/.*/0/' | paste -sd ' '; }   # zeros N

# A server program's log, as it ends: its sockets closing and its exit;
# the persister's, the bets file closed too.
logs_exit () {   # logs_exit LOG
    grep -q 'action: socket_close | result: success' "$1" && grep -q 'action: exit | result: success' "$1"
}
logs_bets_closed () {   # logs_bets_closed LOG
    grep -q 'action: close | result: success | actor: persister | resource: bets_file' "$1"
}

# The containers' log lines, each prefixed with its service's name (the
# value of LABEL without PREFIX) and docker's own timestamp, merged by
# time: what graders read.
merged_logs () {   # merged_logs LABEL PREFIX CONTAINER...
    local label=$1 prefix=$2 id name
    shift 2
    for id in "$@"; do
        name=$(docker inspect -f "{{index .Config.Labels \"$label\"}}" "$id")
        docker logs -t "$id" 2>&1 | sed "s|^|${name#"$prefix"} |"
    done | sort -s -k2,2
}

# What a grader checks in merged logs (WHAT names the run): each agency's
# cant_ganadores, the stored bets adding up, one sorteo after every
# apuesta_recibida and before every consulta_ganadores, no fail line, and
# zmq_evento lines from each actor.
verify_logs () {   # verify_logs LOG AGENCIES DATA_DIR WHAT
    local log=$1 data=$3 what=$4 total=0 n won stored draw last_stored first_answer
    for n in $(seq 1 "$2"); do
        total=$((total + $(grep -c . "$data/agency-$n.csv")))
        won=$(grep -c ',7574'$'\r''\?$' "$data/agency-$n.csv")
        check "$what: client$n has cant_ganadores $won" \
            grep -q "^client$n .*action: consulta_ganadores | result: success | cant_ganadores: $won |" "$log"
    done
    stored=$(grep 'action: apuesta_recibida | result: success' "$log" \
             | sed 's/.*cantidad: \([0-9]*\).*/\1/' | awk '{ s += $1 } END { print s + 0 }')
    check "$what: apuesta_recibida adds up to $total ($stored)" test "$stored" = "$total"
    draw=$(grep -n 'action: sorteo | result: success' "$log" | cut -d: -f1)
    last_stored=$(grep -n 'action: apuesta_recibida' "$log" | tail -n 1 | cut -d: -f1)
    first_answer=$(grep -n 'action: consulta_ganadores' "$log" | head -n 1 | cut -d: -f1)
    check "$what: one sorteo" test "$(echo "$draw" | grep -c .)" = 1
    check "$what: every apuesta_recibida before the sorteo" test "${last_stored:-0}" -lt "${draw:-0}"
    check "$what: every consulta_ganadores after the sorteo" test "${first_answer:-0}" -gt "${draw:-0}"
    check "$what: no fail line" test "$(grep -c 'result: fail' "$log")" = 0
    check "$what: zmq_monitor events logged by every actor" \
        test "$(grep 'action: zmq_evento' "$log" | sed 's/.*actor: \([a-z]*\).*/\1/' | sort -u | tr '\n' ' ')" \
             = "broker coordinator frontend handler persister "
}

# The bets file holds each agency's input lines, each exactly once, as
# `agency,line` in CRLF (numbers written without leading zeros; the data
# sets hold no field that needs quoting). Says where they differ.
bets_match () {   # bets_match DATA_DIR AGENCIES BETS_FILE
    local n
    for n in $(seq 1 "$2"); do
        awk -v agency="$n" '{
            sub(/\r$/, "")
            at = match($0, /,[0-9]+$/)
            if (at) $0 = substr($0, 1, at) (substr($0, at + 1) + 0)
            print agency "," $0
        }' "$1/agency-$n.csv"
    done | LC_ALL=C sort > "$work/bets.expected"
    tr -d '\r' < "$3" | LC_ALL=C sort > "$work/bets.stored"
    if ! cmp -s "$work/bets.expected" "$work/bets.stored"; then
        echo "# the bets file differs from the input (< expected, > stored):"
        diff "$work/bets.expected" "$work/bets.stored" | grep '^[<>]' | head -n 5 | sed 's/^/#   /'
        return 1
    fi
    [ "$(grep -c $'\r$' "$3")" = "$(wc -l < "$3")" ] \
        || { echo "# the bets file has lines not ended by CRLF"; return 1; }
}

# How many bets agencies 1 .. AGENCIES of DATA_DIR hold (a line each)
data_bets () {   # data_bets DATA_DIR AGENCIES
    cat $(seq -f "$1/agency-%g.csv" 1 "$2") | grep -c .
}

# A TCP port nothing on this host listens on now (the kernel's pick)
free_port () {
    python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'
}

# The stack's Prometheus (PROMETHEUS=on), through the port it publishes on
# this host ($prometheus_port): the JSON answer of its HTTP API's
# /api/v1/PATH, with QUERY as the query; fails when nothing answers
# within 5 s or the answer is no success.
prom_api () {   # prom_api PATH [QUERY]
    curl -sf --max-time 5 -G ${2:+--data-urlencode "query=$2"} \
        "http://127.0.0.1:$prometheus_port/api/v1/$1" | jq -e 'select(.status == "success")'
}
# An instant query's value, when its answer has one sample (else nothing)
prom_value () {   # prom_value QUERY
    prom_api query "$1" | jq -r 'select(.data.result | length == 1) | .data.result[0].value[1]'
}
prom_value_is () { [ "$(prom_value "$1")" = "$2" ]; }   # prom_value_is QUERY VALUE

# "JOB HEALTH", a line per target Prometheus scrapes, sorted; and what
# they should be: each actor's replicas up
prom_targets () {
    prom_api targets | jq -r '.data.activeTargets[] | "\(.labels.job) \(.health)"' | sort
}
prom_targets_expected () {   # prom_targets_expected FRONTENDS HANDLERS
    { echo "broker up"; echo "coordinator up"; echo "persister up"
      seq "$1" | sed 's/.*/frontend up/'; seq "$2" | sed 's/.*/handler up/'; } | sort
}
prom_targets_are () { [ "$(prom_targets)" = "$1" ]; }   # prom_targets_are EXPECTED

prom_stored='sum(lottery_bets_stored_total)'
prom_rate='sum(rate(lottery_bets_stored_total[1m]))'
prom_rate_positive () {
    awk -v v="$(prom_value "$prom_rate")" 'BEGIN { exit !(v ~ /^[0-9.e+]+$/ && v > 0) }'
}

# What an operator sees of an upload that ended (WHAT names the run):
# Prometheus's sum of the bets stored is exactly BETS, once it scraped the
# persister after the upload; with RATE (Prometheus scraped the persister
# before the upload), the upload-day rate query shows the upload; every
# actor's replica is a target, up; docs/alerts.yml's rules are loaded.
check_prometheus () {   # check_prometheus WHAT FRONTENDS HANDLERS BETS [RATE]
    local what=$1
    check "$what: Prometheus answers $prom_stored = $4 within 60 s" \
        wait_until 60 prom_value_is "$prom_stored" "$4"
    echo "# $what: Prometheus answered $prom_stored = $(prom_value "$prom_stored")"
    if [ -n "${5:-}" ]; then
        check "$what: Prometheus answers $prom_rate > 0 after the upload" \
            wait_until 30 prom_rate_positive
        echo "# $what: Prometheus answered $prom_rate = $(prom_value "$prom_rate")"
    fi
    check "$what: every actor's replica is a target, up ($2 front-ends, $3 handlers)" \
        wait_until 30 prom_targets_are "$(prom_targets_expected "$2" "$3")"
    prom_targets | uniq -c | sed 's/^ */# targets: /'
    check "$what: Prometheus evaluates docs/alerts.yml's rules" \
        test "$(prom_api rules | jq '[.data.groups[].rules[]] | length')" \
             = "$(grep -c -- '- alert:' docs/alerts.yml)"
}
