#!/usr/bin/env bash
# test_stack.sh: the compose stack, checked the way a grader checks it.
#
# Brings up stacks of docker/generar-compose.sh (whose environment never
# sets config.ini's four keys): the server side alone, where a rewritten
# config.ini is what the restarted front-end's config line shows; 5
# agencies on the real data with 3 handlers; 3 agencies, 2 handlers and 2
# front-ends, these two with their own Prometheus (PROMETHEUS=on);
# handlers scaled up and down while two agencies upload. With agencies:
# every client exits 0, the merged logs pass a grader's checks
# (tests/stack_lib.sh), each binder warns that it runs without CURVE, the
# bets file holds the input's bets, the health check answers, and
# `docker stop -t 10` ends every service with status 0 and its close lines.
# With Prometheus: its API's sum of the bets stored is the input's, to the
# bet, and every actor's replica is a target, up.
set -u
cd "$(dirname "$0")/.."
project=lotterytest
. tests/stack_lib.sh
stack_setup stack "the compose stack"
compose=$(docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
dc () { $compose -f "$file" -p $project "$@" 2>> "$work/compose.log"; }   # on the stack of $file

# Succeeds when no line of the x-server-env anchor or of an `environment:`
# block sets SERVER_PORT, SERVER_IP, SERVER_LISTEN_BACKLOG or LOGGING_LEVEL
# (`KEY: value`, `- KEY=value`, `- KEY`); else prints them and fails, as
# it does when those blocks hold no entry (the file is not shaped as read).
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

health () {   # health GREP_OPTIONS RESULT: what the health check says
    sh docker/validar-echo-server.sh | grep "$1" "action: test_echo_server | result: $2"
}

# With PROMETHEUS on, the stack's Prometheus is checked too, through the
# port it publishes on this host (check_prometheus, tests/stack_lib.sh).
run_stack () {   # run_stack AGENCIES HANDLERS FRONTENDS [PROMETHEUS]
    local n=$1 file=$work/compose-$1.yaml started
    PROMETHEUS=${4:-off} PROMETHEUS_PORT=$prometheus_port DATA_DIR=$data \
        sh docker/generar-compose.sh "$file" "$n" "$2" "$3" >/dev/null
    check "$n agencies: the compose file's environment sets none of config.ini's keys" \
        config_keys_in_env "$file"
    dc down -v >/dev/null
    if [ "${4:-off}" = on ]; then
        # Monitoring first, as on upload day: the whole upload then shows
        check "$n agencies: the server side and Prometheus up" \
            dc up -d broker server handler persister coordinator prometheus
        check "$n agencies: Prometheus scrapes the persister before the upload ($prom_stored = 0)" \
            wait_until 60 prom_value_is "$prom_stored" 0
    fi
    check "$n agencies: stack up" dc up -d
    local statuses
    statuses=$(timeout 300 docker wait $(seq -f client%g 1 "$n") | paste -sd ' ')
    check "$n agencies: every client exits 0 ($statuses)" test "$statuses" = "$(zeros "$n")"
    check "$n agencies: health check answers" health -qx success
    [ "${4:-off}" = off ] || check_prometheus "$n agencies" "$3" "$2" "$(data_bets "$data" "$n")" rate
    check_stack "$n" "$data"
    stop_stack "$n"
    started=$(date +%s)
    check "$n agencies: health check says fail when the server is down" health -q fail
    check "$n agencies: ... within a few seconds" test $(( $(date +%s) - started )) -le 5
    dc down -v >/dev/null
}

# The sockets opened without CURVE where other hosts reach them, from the
# binders' warnings in a merged log: "ACTOR/SOCKET ...", sorted
open_sockets () {   # open_sockets LOG
    grep 'WARNING  action: socket_open | result: in_progress | .*ACTORS_INSECURE' "$1" |
        sed 's/.* actor: \([a-z]*\) | socket: \([a-z]*\) | .*/\1\/\2/' | sort -u | paste -sd ' '
}

check_stack () {   # check_stack AGENCIES DATA_DIR
    local n=$1 log=$work/merged-$1.log config='action: config | result: success | program: lottery-[a-z]* |'
    merged_logs com.docker.compose.service "" $(dc ps -q) > "$log"
    verify_logs "$log" "$n" "$2" "$n agencies"
    # No CURVE in compose: every server program is told its network is
    # trusted, and each binder warns for each socket it opens to it
    check "$n agencies: every server program starts with actors_insecure: true" \
        test "$(grep -c "$config .*| actors_insecure: true |" "$log")" = "$(grep -c "$config" "$log")"
    check "$n agencies: each actor socket open to the network warns ($(open_sockets "$log"))" \
        test "$(open_sockets "$log")" \
             = "broker/frontends broker/results broker/work coordinator/events coordinator/winners persister/records"
    docker exec "$(dc ps -q persister)" cat /data/bets.csv > "$work/bets-$n.csv"
    check "$n agencies: the bets file holds every bet once, as sent" bets_match "$2" "$n" "$work/bets-$n.csv"
}

# Stops every container, the server side persister last: each exits 0,
# each server program logs its sockets closing and its exit.
stop_stack () {   # stop_stack AGENCIES
    local service id name ids=
    for service in $(seq -f client%g 1 "$1") server handler broker coordinator persister; do
        ids="$ids $(dc ps -q "$service")"
    done
    for id in $ids; do
        name=$(docker inspect -f '{{.Name}}' "$id" | tr -d /)
        docker stop -t 10 "$id" >/dev/null
        docker logs "$id" > "$work/stop-$id.log" 2>&1
        check "$1 agencies: $name exits 0 on docker stop" \
            test "$(docker inspect -f '{{.State.ExitCode}}' "$id")" = 0
        case $name in client*) continue ;; esac
        check "$1 agencies: $name logs its sockets closing and its exit" logs_exit "$work/stop-$id.log"
    done
    check "$1 agencies: the persister closes the bets file" logs_bets_closed "$work/stop-$id.log"
}

# Handlers scaled up, then down, while two agencies upload 100,000 bets
# each: a handler that stops loses what PUSH had queued for it, which the
# front-end sends again; every bet must be stored once.
scale_stack () {
    local file=$work/compose-scale.yaml big=$work/big statuses
    sh scripts/gen-data.sh "$big" 2 100000
    DATA_DIR=$big sh docker/generar-compose.sh "$file" 2 1 >/dev/null
    dc down -v >/dev/null
    dc up -d broker server persister coordinator handler
    dc up -d client1 client2
    check "scale: handlers up to 4 during the upload" dc up -d --scale handler=4 handler
    check "scale: 4 handlers running" test "$(dc ps -q handler | wc -l)" = 4
    check "scale: handlers down to 1 during the upload" dc up -d --scale handler=1 handler
    check "scale: 1 handler running" \
        test "$(docker ps -q --filter label=com.docker.compose.project=$project \
                --filter label=com.docker.compose.service=handler | wc -l)" = 1
    statuses=$(timeout 300 docker wait client1 client2 | paste -sd ' ')
    check "scale: both clients exit 0 ($statuses)" test "$statuses" = "0 0"
    check_stack 2 "$big"
    dc stop -t 10 >/dev/null
    dc down -v >/dev/null
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
# side alone. Rewritten in place (cat >, the same inode): a single-file
# bind mount holds the inode it was given. The swarm stack, which sets its
# own backlog, is the check's counterpart: the same reading finds it there.
config_stack () {
    local file=$work/compose-0.yaml swarm=$work/stack-200.yaml saved=$work/config.ini.orig
    local inode server line backlog level
    CURVE=off PUBLISH=none sh docker/generar-stack.sh "$swarm" 200 >/dev/null
    check "the swarm stack file sets its own backlog, and config_keys_in_env sees it" \
        test "$(config_keys_in_env "$swarm" | sed 's/^# [^:]*:[0-9]*: *//')" = 'SERVER_LISTEN_BACKLOG: "400"'
    check "the swarm stack file with CURVE=off lets the actors run without it (ACTORS_INSECURE)" \
        grep -qx '  ACTORS_INSECURE: "true"' "$swarm"
    DATA_DIR=$data sh docker/generar-compose.sh "$file" 0 1 >/dev/null
    check "0 agencies: the compose file's environment sets none of config.ini's keys" \
        config_keys_in_env "$file"
    check "0 agencies: the compose file lets the actors run without CURVE (ACTORS_INSECURE)" \
        grep -qx '  ACTORS_INSECURE: "true"' "$file"
    check "0 agencies: no Prometheus and no metrics by default" \
        sh -c "! grep -qi 'prometheus\|METRICS_PORT' '$file' && ! ls '$work'/prometheus-* 2>/dev/null"
    cp -p "$repo/config.ini" "$saved"
    stack_at_exit "restore_config '$saved'"
    inode=$(stat -c %i "$repo/config.ini")
    dc down -v >/dev/null
    check "config.ini: stack up (0 agencies)" dc up -d
    server=$(dc ps -q server)
    wait_until 30 config_line "$server" 1 >/dev/null
    check "config.ini: the front-end logs its config line" test -n "$(config_line "$server" 1)"
    printf '%s\n' '[DEFAULT]' 'SERVER_PORT = 12345' 'SERVER_IP = server' \
        'SERVER_LISTEN_BACKLOG = 8' 'LOGGING_LEVEL = DEBUG' > "$repo/config.ini"
    check "config.ini: server restarts" dc restart server
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
    dc stop -t 10 >/dev/null
    dc down -v >/dev/null
}

prometheus_port=$(free_port)
config_stack
run_stack 5 3 1 on
run_stack 3 2 2 on
scale_stack
finish stack
