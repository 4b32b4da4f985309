#!/usr/bin/env bash
# test_stack.sh: the compose stack, checked the way a grader checks it.
#
# Builds the images, generates compose files with docker/generar-compose.sh
# (whose environment never sets config.ini's four keys) and brings each
# stack up: the server side alone, where a rewritten config.ini is what
# the restarted front-end's config line shows; 5 agencies on the real data
# (../shared/data, or generated data when it is absent) with 3 handlers,
# then 3 agencies with 2 handlers and 2 front-ends (replicas of `server`),
# then handlers scaled up and down while two agencies upload. For each
# stack with agencies: every client exits 0
# with its agency's cant_ganadores, the docker logs merged by time have
# every apuesta_recibida before the sorteo and every consulta_ganadores
# after it, no line says fail, every actor logs zmq_evento lines, each
# binder warns that it runs without CURVE (ACTORS_INSECURE), the bets
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

# config.ini's four keys (the course's) where a stack file sets the
# environment: the lines of the x-server-env anchor and of every
# `environment:` block (those indented under it) that set SERVER_PORT,
# SERVER_IP, SERVER_LISTEN_BACKLOG or LOGGING_LEVEL, as `KEY: value`,
# `- KEY=value` or `- KEY`. Succeeds when there is none; fails, printing
# them, when there are, and when those blocks hold no entry at all (the
# file's shape is not what this reads).
config_keys_in_env () {   # config_keys_in_env FILE
    awk '
        /^[ \t]*(#|$)/ { next }
        { match($0, /^ */); ind = RLENGTH }
        block && ind <= indent { block = 0 }
        block {
            entries++
            if ($0 ~ /^ *(- *)?"?(SERVER_PORT|SERVER_IP|SERVER_LISTEN_BACKLOG|LOGGING_LEVEL)"? *([:=]|$)/) {
                print "# " FILENAME ":" FNR ":" $0
                found++
            }
            next
        }
        /^x-server-env:/ || /^ *environment:/ { block = 1; indent = ind }
        END {
            if (!entries) print "# " FILENAME ": no environment entries found"
            exit (found || !entries)
        }' "$1"
}

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
    check "$agencies agencies: the compose file's environment sets none of config.ini's keys" \
        config_keys_in_env "$file"
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

# The sockets opened without CURVE where other hosts reach them, from the
# binders' warnings in a merged log: "ACTOR/SOCKET ...", sorted
open_sockets () {   # open_sockets LOG
    grep 'WARNING  action: socket_open | result: in_progress | .*ACTORS_INSECURE' "$1" |
        sed 's/.* actor: \([a-z]*\) | socket: \([a-z]*\) | .*/\1\/\2/' | sort -u | paste -sd ' '
}

check_stack () {   # check_stack FILE AGENCIES DATA_DIR
    local file=$1 agencies=$2 data=$3 log=$work/merged-$2.log
    stack_logs "$file" > "$log"
    verify_logs "$log" "$agencies" "$data" "$agencies agencies" \
        "broker coordinator frontend handler persister "
    # No CURVE in compose: every server program is told its network is
    # trusted, and each binder warns for each socket it opens to it
    check "$agencies agencies: every server program starts with actors_insecure: true" \
        test "$(grep -c 'action: config | result: success | program: lottery-[a-z]* | .*| actors_insecure: true |' "$log")" \
             = "$(grep -c 'action: config | result: success | program: lottery-[a-z]* |' "$log")"
    check "$agencies agencies: each actor socket open to the network warns ($(open_sockets "$log"))" \
        test "$(open_sockets "$log")" \
             = "broker/frontends broker/results broker/work coordinator/events coordinator/winners persister/records"
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

# The front-end's Nth `action: config` line, once it is there
config_line () {   # config_line CONTAINER N
    docker logs "$1" 2>&1 | grep 'action: config | result: success' | sed -n "$2p" | grep .
}

# config.ini back as it was (SAVED, byte for byte), written in place: also
# run at exit, so an interrupted test leaves the repository's as it found
# it. Nothing to do once SAVED is gone with $work.
restore_config () {   # restore_config SAVED
    [ -f "$1" ] || return 0
    cmp -s "$1" "$repo/config.ini" || cat "$1" > "$repo/config.ini"
}

# What a grader does: rewrite config.ini with the course's four keys,
# restart the server, and read its config line, on a stack of the server
# side alone. config.ini is rewritten in place (cat >, the same inode): a
# single-file bind mount holds the inode it was given, so an editor that
# writes a new file (sed -i) changes what a running container sees only
# after a restart. The swarm stack, which sets its own backlog, is the
# check's counterpart: the same reading finds it there.
config_stack () {
    local file=$work/compose-0.yaml swarm=$work/stack-200.yaml saved=$work/config.ini.orig
    CURVE=off PUBLISH=none sh docker/generar-stack.sh "$swarm" 200 >/dev/null
    check "the swarm stack file sets its own backlog, and config_keys_in_env sees it" \
        test "$(config_keys_in_env "$swarm" | sed 's/^# [^:]*:[0-9]*: *//')" \
             = 'SERVER_LISTEN_BACKLOG: "400"'
    check "the swarm stack file with CURVE=off lets the actors run without it (ACTORS_INSECURE)" \
        grep -qx '  ACTORS_INSECURE: "true"' "$swarm"
    DATA_DIR=$data sh docker/generar-compose.sh "$file" 0 1 >/dev/null
    check "0 agencies: the compose file's environment sets none of config.ini's keys" \
        config_keys_in_env "$file"
    check "0 agencies: the compose file lets the actors run without CURVE (ACTORS_INSECURE)" \
        grep -qx '  ACTORS_INSECURE: "true"' "$file"
    cp -p "$repo/config.ini" "$saved"
    stack_at_exit "restore_config '$saved'"
    local inode
    inode=$(stat -c %i "$repo/config.ini")
    $compose -f "$file" -p $project down -v >/dev/null 2>&1
    check "config.ini: stack up (0 agencies)" \
        sh -c "$compose -f $file -p $project up -d >> $work/compose.log 2>&1"
    local server line backlog level
    server=$($compose -f "$file" -p $project ps -q server)
    wait_until 30 config_line "$server" 1 >/dev/null
    line=$(config_line "$server" 1)
    check "config.ini: the front-end logs its config line" test -n "$line"
    printf '%s\n' '[DEFAULT]' 'SERVER_PORT = 12345' 'SERVER_IP = server' \
        'SERVER_LISTEN_BACKLOG = 8' 'LOGGING_LEVEL = DEBUG' > "$repo/config.ini"
    check "config.ini: server restarts" \
        sh -c "$compose -f $file -p $project restart server >> $work/compose.log 2>&1"
    wait_until 30 config_line "$server" 2 >/dev/null
    line=$(config_line "$server" 2)
    backlog=$(sed -n 's/.* | listen_backlog: \([^ ]*\) | .*/\1/p' <<< "$line")
    level=$(sed -n 's/.* | logging_level: \([^ ]*\) | .*/\1/p' <<< "$line")
    check "config.ini: the restarted front-end's config line says listen_backlog: 8 ($backlog)" \
        test "$backlog" = 8
    check "config.ini: ... and logging_level: DEBUG ($level)" test "$level" = DEBUG
    check "config.ini: ... and SERVER_PORT, SERVER_IP as written" \
        grep -q ' | port: 12345 | server_ip: server | ' <<< "$line"
    restore_config "$saved"
    check "config.ini: restored byte for byte, in place" \
        sh -c "cmp '$saved' '$repo/config.ini' && test \"\$(stat -c %i '$repo/config.ini')\" = $inode"
    $compose -f "$file" -p $project stop -t 10 >/dev/null 2>&1
    $compose -f "$file" -p $project down -v >/dev/null 2>&1
}

config_stack
run_stack 5 3 1
run_stack 3 2 2
scale_stack
[ "$failed" -eq 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$work"
finish stack
