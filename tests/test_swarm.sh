#!/usr/bin/env bash
# test_swarm.sh: the stack on Docker Swarm, deployed from
# docker/generar-stack.sh's file on a one-node swarm.
#
# Builds the images, makes this engine a one-node swarm (docker swarm init
# --advertise-addr 127.0.0.1, left at the end when this test made it) and
# labels it for the persister. Then:
#
# 1. 5 agencies on the real data (../shared/data, or generated data when it
#    is absent), 2 front-ends, 3 handlers, no published port (on one node
#    only one front-end could hold it): every agency's task completes with
#    status 0 and its cant_ganadores, the merged logs pass a grader's
#    checks, both front-ends connect to the broker, the health probe
#    answers from the stack's network, the bets file on the volume
#    lottery_bets matches the input line by line, and every server-side
#    service scaled to 0 (persister last) exits 0 with its close lines.
# 2. 2 agencies of 600,000 generated bets, 1 front-end publishing port
#    12345 on the host (when it is free): the probe answers there, and the
#    handlers are scaled from 3 to 1 and then to 4 while the agencies
#    upload; every bet is stored once.
#
# The stacks are removed at the end. Skips, saying so, only when no
# Docker engine can run.
set -u
cd "$(dirname "$0")/.."
stack=lottery
work=$(mktemp -d /tmp/lottery-swarm-XXXXXX)
. tests/stack_lib.sh

stack_engine "the swarm stack"
check "images build" make -s docker-build
stack_data 5 5000

if [ "$(docker info -f '{{.Swarm.LocalNodeState}}')" = active ]; then
    echo "note: this engine is already in a swarm: using it, and leaving it in place"
else
    if ! docker swarm init --advertise-addr 127.0.0.1 > "$work/swarm.log" 2>&1; then
        cat "$work/swarm.log"
        not_ok "docker swarm init"
        finish swarm
    fi
    stack_at_exit 'docker swarm leave --force >/dev/null'
fi
node=$(docker info -f '{{.Swarm.NodeID}}')
if [ "$(docker node inspect -f '{{index .Spec.Labels "lottery.bets"}}' "$node")" != true ]; then
    docker node update --label-add lottery.bets=true "$node" >/dev/null
    stack_at_exit "docker node update --label-rm lottery.bets $node >/dev/null 2>&1"
fi

# The stack's containers (those of finished and removed tasks too)
containers () {   # containers [SERVICE]
    docker ps -aq --filter "label=com.docker.stack.namespace=$stack" \
        ${1:+--filter "label=com.docker.swarm.service.name=${stack}_$1"}
}

# Nothing of the stack is left: services, containers, network. The volume
# goes last, once no container holds it.
remove_stack () {
    docker stack rm $stack >/dev/null 2>&1
    wait_until 60 sh -c "[ -z \"\$(docker ps -aq --filter label=com.docker.stack.namespace=$stack)\" ] &&
                         ! docker network inspect ${stack}_default >/dev/null 2>&1" \
        || echo "# the stack's containers or network outlived docker stack rm"
    containers | xargs -r docker rm -f >/dev/null 2>&1
    docker volume rm ${stack}_bets >/dev/null 2>&1
    ! docker volume inspect ${stack}_bets >/dev/null 2>&1
}
check "nothing is left of an earlier run (stack $stack, volume ${stack}_bets)" remove_stack
stack_at_exit remove_stack

deploy () {   # deploy FILE
    docker stack deploy --resolve-image never -c "$1" $stack >> "$work/deploy.log" 2>&1
}

# Status of agency N's one task once it ended, or nothing
client_status () {   # client_status N
    local id
    id=$(containers "client$1")
    [ "$(echo "$id" | grep -c .)" = 1 ] || return 0
    docker inspect -f '{{if not .State.Running}}{{.State.ExitCode}}{{end}}' "$id"
}
clients_done () {   # clients_done AGENCIES
    local n
    for n in $(seq 1 "$1"); do
        [ -n "$(client_status "$n")" ] || return 1
    done
}

# Every agency's task ended with status 0; then the grader's log checks
# and the bets file, read from the volume.
check_run () {   # check_run WHAT AGENCIES DATA_DIR
    local what=$1 agencies=$2 data=$3 n statuses= zeros=
    check "$what: every agency's task ends within 2 minutes" wait_until 120 clients_done "$agencies"
    for n in $(seq 1 "$agencies"); do
        statuses="$statuses$(client_status "$n") "
        zeros="${zeros}0 "
    done
    check "$what: every agency exits 0 ($statuses)" test "$statuses" = "$zeros"
    merged_logs com.docker.swarm.service.name "${stack}_" $(containers) > "$work/merged-$agencies.log"
    verify_logs "$work/merged-$agencies.log" "$agencies" "$data" "$what" \
        "broker coordinator frontend handler persister "
    docker run --rm -v ${stack}_bets:/data --entrypoint cat lottery-client:latest \
        /data/bets.csv > "$work/bets-$agencies.csv"
    check "$what: the bets file (bets.csv on ${stack}_bets) holds every bet once, as sent" \
        bets_match "$data" "$agencies" "$work/bets-$agencies.csv"
}

# Services scaled to 0 one by one, the persister last: each container
# exits 0 and logs its sockets closing and its exit. Swarm removes the
# containers of slots it scales away, so their end is watched from before.
stop_services () {   # stop_services WHAT
    local service id ids
    for service in server handler broker coordinator persister; do
        ids=$(docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_$service")
        for id in $ids; do
            timeout 60 docker logs -f "$id" > "$work/stop-$id.log" 2>&1 &
            timeout 60 docker wait "$id" > "$work/stop-$id.status" 2>&1 &
        done
        docker service scale --detach ${stack}_$service=0 >> "$work/deploy.log" 2>&1
        wait
        for id in $ids; do
            check "$1: $service task exits 0 when scaled to 0" \
                test "$(cat "$work/stop-$id.status")" = 0
            check "$1: $service task logs its sockets closing and its exit" \
                sh -c "grep -q 'action: socket_close | result: success' $work/stop-$id.log &&
                       grep -q 'action: exit | result: success' $work/stop-$id.log"
        done
    done
    # The last container stopped is the persister
    check "$1: the persister closes the bets file" \
        grep -q 'action: close | result: success | actor: persister | resource: bets_file' \
            "$work/stop-$id.log"
}

# 1. Real data, 2 front-ends, 3 handlers, nothing published
file=$work/stack-5.yaml
DATA_DIR=$data PUBLISH=none sh docker/generar-stack.sh "$file" 5 3 2 >/dev/null
started=$(date +%s)
check "5 agencies: stack deployed" deploy "$file"
check_run "5 agencies" 5 "$data"
echo "# 5 agencies: deployed to every agency's end in $(( $(date +%s) - started )) s"
check "5 agencies: 2 front-end tasks ran" test "$(containers server | wc -l)" = 2
for id in $(containers server); do
    host=$(docker inspect -f '{{.Config.Hostname}}' "$id")
    check "5 agencies: front-end $host connected to the broker" \
        sh -c "docker logs $id 2>&1 | grep -q 'action: zmq_evento | result: success | actor: frontend | .*event: CONNECTED | endpoint: tcp://broker:5565'"
    # Agencies pick a front-end at random: how many each got is shown, not checked
    echo "# 5 agencies: front-end $host took $(docker logs "$id" 2>&1 | grep -c 'action: agencia_conectada') agency connections"
done
check "5 agencies: 3 handler tasks ran" test "$(containers handler | wc -l)" = 3
check "5 agencies: the health probe answers at server:12345 in the stack's network" \
    sh -c "docker run --rm --network ${stack}_default --entrypoint lottery-ping lottery-client:latest \
           server:12345 | grep -q 'action: test_echo_server | result: success'"
stop_services "5 agencies"
remove_stack

# 2. Handlers scaled down and up while 2 agencies upload 600,000 bets each:
# a handler that stops loses what PUSH had queued for it, which the
# front-end sends again; every bet must be stored once.
big=$work/big
sh scripts/gen-data.sh "$big" 2 600000
publish=host
if ss -ltn 2>/dev/null | grep -q ':12345 '; then
    echo "note: port 12345 is taken on this host: the scaling run publishes no port"
    publish=none
fi
file=$work/stack-2.yaml
DATA_DIR=$big PUBLISH=$publish sh docker/generar-stack.sh "$file" 2 3 1 >/dev/null
check "scale: stack deployed" deploy "$file"
# Scales the handlers without waiting for the CLI's 5 s of stability:
# done once that many handler containers run.
scale_handlers () {   # scale_handlers N
    docker service scale --detach ${stack}_handler=$1 >> "$work/deploy.log" 2>&1 &&
    wait_until 60 sh -c "[ \$(docker ps -q --filter label=com.docker.swarm.service.name=${stack}_handler | wc -l) = $1 ]"
}
uploading () {
    docker logs "$(containers persister)" 2>&1 | grep -q "action: apuesta_recibida"
}
check "scale: the upload starts" wait_until 60 uploading
check "scale: handlers down to 1 during the upload" scale_handlers 1
check "scale: handlers up to 4 during the upload" scale_handlers 4
check "scale: the agencies were still uploading" test -z "$(client_status 1)$(client_status 2)"
if [ $publish = host ]; then
    check "scale: the health probe answers at the published port 127.0.0.1:12345" \
        sh -c "docker run --rm --network host --entrypoint lottery-ping lottery-client:latest \
               127.0.0.1:12345 | grep -q 'action: test_echo_server | result: success'"
fi
check_run "scale" 2 "$big"
remove_stack

[ "$failed" -eq 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$work"
finish swarm
