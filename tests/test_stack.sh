#!/usr/bin/env bash
# test_stack.sh: the compose stack, checked the way a grader checks it.
#
# Builds the images, generates compose files with docker/generar-compose.sh
# and brings each stack up: 5 agencies on the real data (../shared/data, or
# generated data when it is absent) with 3 handlers, then 3 agencies with
# 2 handlers and 2 front-ends (replicas of `server`), then handlers scaled
# up and down while two agencies upload. For each: every client exits 0
# with its agency's cant_ganadores, the docker logs merged by time have
# every apuesta_recibida before the sorteo and every consulta_ganadores
# after it, no line says fail, every actor logs zmq_evento lines, the bets
# file holds the input's bets line by line, the health check answers, and
# `docker stop -t 10` ends every service with status 0 and its close
# lines. Skips, saying so, when no Docker engine can run. Shares its
# helpers with test_swarm.sh (tests/stack_lib.sh).
set -u
cd "$(dirname "$0")/.."
project=lotterytest
. tests/stack_lib.sh
stack_setup stack "the compose stack"
compose=$(docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

# Every container of the stack, merged by time, named by service
stack_logs () {   # stack_logs FILE
    merged_logs com.docker.compose.service "" $($compose -f "$1" -p $project ps -q)
}

# The stack's containers, server side stopped persister last.
stop_order () {   # stop_order FILE
    for service in $(seq -f client%g 1 "$2") server handler broker coordinator persister; do
        $compose -f "$1" -p $project ps -q "$service"
    done
}

run_stack () {   # run_stack AGENCIES HANDLERS FRONTENDS
    local agencies=$1 handlers=$2 file=$work/compose-$1.yaml
    DATA_DIR=$data sh docker/generar-compose.sh "$file" "$agencies" "$handlers" "$3" >/dev/null
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
    check_stack "$file" "$agencies" "$data"
    stop_stack "$file" "$agencies"
    local started
    started=$(date +%s)
    check "$agencies agencies: health check says fail when the server is down" \
        sh -c "sh docker/validar-echo-server.sh | grep -q 'action: test_echo_server | result: fail'"
    check "$agencies agencies: ... within a few seconds" test $(( $(date +%s) - started )) -le 5
    $compose -f "$file" -p $project down -v >/dev/null 2>&1
}

check_stack () {   # check_stack FILE AGENCIES DATA_DIR
    local file=$1 agencies=$2 data=$3
    stack_logs "$file" > "$work/merged-$agencies.log"
    verify_logs "$work/merged-$agencies.log" "$agencies" "$data" "$agencies agencies" \
        "broker coordinator frontend handler persister "
    local persister
    persister=$($compose -f "$file" -p $project ps -q persister)
    docker exec "$persister" cat /data/bets.csv > "$work/bets-$agencies.csv"
    check "$agencies agencies: the bets file holds every bet once, as sent" \
        bets_match "$data" "$agencies" "$work/bets-$agencies.csv"
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
    $compose -f "$file" -p $project up -d broker server persister coordinator handler \
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
    check_stack "$file" 2 "$big"
    $compose -f "$file" -p $project stop -t 10 >/dev/null 2>&1
    $compose -f "$file" -p $project down -v >/dev/null 2>&1
}

run_stack 5 3 1
run_stack 3 2 2
scale_stack
[ "$failed" -eq 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$work"
finish stack
