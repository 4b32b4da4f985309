#!/usr/bin/env bash
# test_stack.sh: the compose stack, checked the way a grader checks it.
#
# Builds the images, generates compose files with docker/generar-compose.sh
# and brings each stack up: 5 agencies on the real data (../shared/data, or
# generated data when it is absent) with 3 handlers, then 3 agencies with
# 2 handlers, then handlers scaled up and down while two agencies upload.
# For each: every client exits 0 with its agency's cant_ganadores, the
# docker logs merged by time have every apuesta_recibida before the sorteo
# and every consulta_ganadores after it, no line says fail, the health
# check answers, and `docker stop -t 10` ends every service with status 0
# and its close lines. Skips, saying so, when no Docker engine can run.
set -u
cd "$(dirname "$0")/.."
repo=$(pwd)
engine=$repo/../shared/tools/docker-engine
project=lotterytest
work=$(mktemp -d /tmp/lottery-stack-XXXXXX)
passed=0
failed=0

ok () { passed=$((passed + 1)); echo "ok - $*"; }
not_ok () { failed=$((failed + 1)); echo "not ok - $*"; }
check () {   # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish () {
    echo "stack: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

if ! docker info >/dev/null 2>&1; then
    if [ -f "$engine" ]; then
        echo "starting a Docker engine with $engine"
        bash "$engine" up >/dev/null 2>"$work/engine.log" && trap 'bash "$engine" down' EXIT
    fi
    if ! docker info >/dev/null 2>&1; then
        echo "SKIP: no Docker engine could be started here (see $work/engine.log):"
        echo "the compose stack was not tested"
        exit 0
    fi
fi
compose=$(docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
check "images build" make -s docker-build

# Data: the real set when it is there, else generated
data=$repo/../shared/data
if [ -f "$data/agency-5.csv" ]; then
    data=$(cd "$data" && pwd)
else
    echo "note: ../shared/data not found, using generated data"
    data=$work/data
    sh scripts/gen-data.sh "$data" 5 5000
fi

# Winning bets of agency N in a data directory, CRLF or LF
winners_of () {   # winners_of DIR N
    grep -c ',7574'$'\r''\?$' "$1/agency-$2.csv"
}

# Each container's log lines, prefixed with its name and docker's own
# timestamp, merged by time: what graders read.
merged_logs () {   # merged_logs FILE
    for id in $($compose -f "$1" -p $project ps -q); do
        name=$(docker inspect -f '{{.Name}}' "$id" | tr -d /)
        docker logs -t "$id" 2>&1 | sed "s|^|$name |"
    done | sort -s -k2,2
}

# The stack's containers, server side stopped persister last.
stop_order () {   # stop_order FILE
    for service in $(seq -f client%g 1 "$2") server handler coordinator persister; do
        $compose -f "$1" -p $project ps -q "$service"
    done
}

run_stack () {   # run_stack AGENCIES HANDLERS
    local agencies=$1 handlers=$2 file=$work/compose-$1.yaml
    DATA_DIR=$data sh docker/generar-compose.sh "$file" "$agencies" "$handlers" >/dev/null
    $compose -f "$file" -p $project down -v >/dev/null 2>&1
    check "$agencies agencies: stack up" \
        sh -c "$compose -f $file -p $project up -d >> $work/compose.log 2>&1"
    local clients
    clients=$(seq -f client%g 1 "$agencies")
    local statuses
    statuses=$(timeout 300 docker wait $clients | tr '\n' ' ')
    check "$agencies agencies: every client exits 0 ($statuses)" \
        test "$(echo $statuses | tr -d ' 0')" = ""
    check "$agencies agencies: health check answers" \
        sh -c "sh docker/validar-echo-server.sh | grep -qx 'action: test_echo_server | result: success'"
    verify_logs "$file" "$agencies" "$data"
    stop_stack "$file" "$agencies"
    local started
    started=$(date +%s)
    check "$agencies agencies: health check says fail when the server is down" \
        sh -c "sh docker/validar-echo-server.sh | grep -q 'action: test_echo_server | result: fail'"
    check "$agencies agencies: ... within a few seconds" test $(( $(date +%s) - started )) -le 5
    $compose -f "$file" -p $project down -v >/dev/null 2>&1
}

verify_logs () {   # verify_logs FILE AGENCIES DATA_DIR
    local file=$1 agencies=$2 data=$3 log=$work/merged-$2.log
    merged_logs "$file" > "$log"
    local total=0
    for n in $(seq 1 "$agencies"); do
        total=$((total + $(grep -c . "$data/agency-$n.csv")))
        local won
        won=$(winners_of "$data" "$n")
        check "$agencies agencies: client$n has cant_ganadores $won" \
            grep -q "^client$n .*action: consulta_ganadores | result: success | cant_ganadores: $won |" "$log"
    done
    local stored
    stored=$(grep 'action: apuesta_recibida | result: success' "$log" \
             | sed 's/.*cantidad: \([0-9]*\).*/\1/' | awk '{ s += $1 } END { print s + 0 }')
    check "$agencies agencies: apuesta_recibida adds up to $total ($stored)" test "$stored" = "$total"
    local draw last_stored first_answer
    draw=$(grep -n 'action: sorteo | result: success' "$log" | cut -d: -f1)
    last_stored=$(grep -n 'action: apuesta_recibida' "$log" | tail -n 1 | cut -d: -f1)
    first_answer=$(grep -n 'action: consulta_ganadores' "$log" | head -n 1 | cut -d: -f1)
    check "$agencies agencies: one sorteo" test "$(echo "$draw" | grep -c .)" = 1
    check "$agencies agencies: every apuesta_recibida before the sorteo" \
        test "${last_stored:-0}" -lt "${draw:-0}"
    check "$agencies agencies: every consulta_ganadores after the sorteo" \
        test "${first_answer:-0}" -gt "${draw:-0}"
    check "$agencies agencies: no fail line" \
        test "$(grep -c 'result: fail' "$log")" = 0
    check "$agencies agencies: zmq_monitor events logged by every actor" \
        test "$(grep 'action: zmq_evento' "$log" | sed 's/.*actor: \([a-z]*\).*/\1/' | sort -u | tr '\n' ' ')" \
             = "coordinator frontend handler persister "
}

stop_stack () {   # stop_stack FILE AGENCIES
    local file=$1 agencies=$2
    for id in $(stop_order "$file" "$agencies"); do
        local name
        name=$(docker inspect -f '{{.Name}}' "$id" | tr -d /)
        docker stop -t 10 "$id" >/dev/null
        check "$agencies agencies: $name exits 0 on docker stop" \
            test "$(docker inspect -f '{{.State.ExitCode}}' "$id")" = 0
        case $name in client*) continue ;; esac
        check "$agencies agencies: $name logs its sockets closing and its exit" \
            sh -c "docker logs $id 2>&1 | grep -q 'action: socket_close | result: success' &&
                   docker logs $id 2>&1 | grep -q 'action: exit | result: success'"
    done
    local persister
    persister=$($compose -f "$file" -p $project ps -q persister)
    check "$agencies agencies: the persister closes the bets file" \
        sh -c "docker logs $persister 2>&1 | grep -q 'action: close | result: success | actor: persister | resource: bets_file'"
}

# Handlers scaled up, then down, while two agencies upload 100,000 bets
# each: a handler that stops loses what PUSH had queued for it, which the
# front-end sends again; every bet must be stored once.
scale_stack () {
    local file=$work/compose-scale.yaml big=$work/big
    sh scripts/gen-data.sh "$big" 2 100000
    DATA_DIR=$big sh docker/generar-compose.sh "$file" 2 1 >/dev/null
    $compose -f "$file" -p $project down -v >/dev/null 2>&1
    $compose -f "$file" -p $project up -d server persister coordinator handler \
        >> "$work/compose.log" 2>&1
    $compose -f "$file" -p $project up -d client1 client2 >> "$work/compose.log" 2>&1
    check "scale: handlers up to 4 during the upload" \
        sh -c "$compose -f $file -p $project up -d --scale handler=4 handler >> $work/compose.log 2>&1"
    check "scale: 4 handlers running" \
        test "$($compose -f "$file" -p $project ps -q handler | wc -l)" = 4
    check "scale: handlers down to 1 during the upload" \
        sh -c "$compose -f $file -p $project up -d --scale handler=1 handler >> $work/compose.log 2>&1"
    check "scale: 1 handler running" \
        test "$(docker ps -q --filter label=com.docker.compose.project=$project \
                --filter label=com.docker.compose.service=handler | wc -l)" = 1
    local statuses
    statuses=$(timeout 300 docker wait client1 client2 | tr '\n' ' ')
    check "scale: both clients exit 0 ($statuses)" test "$(echo $statuses | tr -d ' 0')" = ""
    verify_logs "$file" 2 "$big"
    local persister
    persister=$($compose -f "$file" -p $project ps -q persister)
    check "scale: the bets file holds every bet once" \
        test "$(docker exec "$persister" sh -c 'wc -l < /data/bets.csv; sort -u /data/bets.csv | wc -l' | tr '\n' ' ')" = "200000 200000 "
    $compose -f "$file" -p $project stop -t 10 >/dev/null 2>&1
    $compose -f "$file" -p $project down -v >/dev/null 2>&1
}

run_stack 5 3
run_stack 3 2
scale_stack
[ "$failed" -eq 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$work"
finish
