#!/usr/bin/env bash
# test_swarm.sh: the stack of docker/generar-stack.sh on Docker Swarm,
# checked as test_stack.sh checks compose (tests/stack_lib.sh): on this
# engine made a one-node swarm, 1. the real data with CURVE on and the
# stack's Prometheus (its sum of the bets stored, every actor's task an
# up target: tests/stack_lib.sh's check_prometheus), 2. handlers
# scaled during a long upload, and 3. on three nodes, each a Docker engine
# in a container (tests/swarm_node.Dockerfile; SKIP for this part alone
# when its image cannot be built). Skips when no Docker engine can run.
set -u
cd "$(dirname "$0")/.."
stack=lottery
. tests/stack_lib.sh
stack_setup swarm "the swarm stack"

if [ "$(docker info -f '{{.Swarm.LocalNodeState}}')" = active ]; then
    echo "note: this engine is already in a swarm: using it, and leaving it in place"
elif docker swarm init --advertise-addr 127.0.0.1 > "$work/swarm.log" 2>&1; then
    stack_at_exit 'docker swarm leave --force >/dev/null'
else
    cat "$work/swarm.log"
    not_ok "docker swarm init"
    finish swarm
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
    docker volume rm ${stack}_bets ${stack}_prometheus >/dev/null 2>&1
    ! docker volume inspect ${stack}_bets >/dev/null 2>&1
}
check "nothing is left of an earlier run (stack $stack, volume ${stack}_bets)" remove_stack
stack_at_exit remove_stack

deploy () {   # deploy FILE
    docker stack deploy --resolve-image never -c "$1" $stack >> "$work/deploy.log" 2>&1
}

# "STATE EXIT_CODE" of a one-task service's task
task_status () {   # task_status SERVICE
    docker inspect -f '{{.Status.State}} {{with index .Status "ContainerStatus"}}{{.ExitCode}}{{end}}' \
        $(docker service ps -q ${stack}_$1)
}
tasks_ended () {   # tasks_ended SERVICE...
    local service
    for service in "$@"; do
        case $(task_status "$service") in complete*|failed*|rejected*) ;; *) return 1 ;; esac
    done
}

# Every container's lines merged by time, named by service, as graders
# read them (the SERVICE... that check_run names are all of them)
container_logs () {   # container_logs SERVICE...
    merged_logs com.docker.swarm.service.name "${stack}_" $(containers)
}
# The services' lines merged by time, each prefixed with its service
service_logs () {   # service_logs SERVICE...
    local service
    for service in "$@"; do
        docker service logs --raw -t ${stack}_$service 2>&1 | sed "s|^|$service |"
    done | sort -s -k2,2
}

# Every agency's task ended with status 0 (within MINUTES, 2 unless
# given: a deadline, not a speed); then the grader's log checks, on the
# log that LOGS writes, and the bets file on the stack's volume.
check_run () {   # check_run WHAT AGENCIES DATA_DIR LOGS [MINUTES]
    local what=$1 n=$2 log=$work/merged-${1// /_}.log bets=$work/bets-${1// /_}.csv
    local clients statuses client minutes=${5:-2}
    clients=$(seq -f client%g 1 "$n")
    check "$what: every agency's task ends within $minutes minutes" \
        wait_until $((minutes * 60)) tasks_ended $clients
    statuses=$(for client in $clients; do task_status $client | cut -d' ' -f2; done | paste -sd ' ')
    check "$what: every agency exits 0 ($statuses)" test "$statuses" = "$(zeros "$n")"
    $4 broker server handler persister coordinator $clients > "$log"
    verify_logs "$log" "$n" "$3" "$what"
    docker run --rm -v ${stack}_bets:/data --entrypoint cat lottery-client:latest /data/bets.csv > "$bets"
    check "$what: the bets file (bets.csv on ${stack}_bets) holds every bet once, as sent" \
        bets_match "$3" "$n" "$bets"
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
            check "$1: $service task exits 0 when scaled to 0" test "$(cat "$work/stop-$id.status")" = 0
            check "$1: $service task logs its sockets closing and its exit" logs_exit "$work/stop-$id.log"
        done
    done
    check "$1: the persister closes the bets file" logs_bets_closed "$work/stop-$id.log"
}

# CURVE as a user checks it, on run 1's merged log: each actor's config
# line names its certificate and public directory, every socket between
# actors (all but the agencies' raw TCP) says it is secured.
check_curve () {   # check_curve WHAT LOG
    local service config='action: config | result: success | program: lottery-'
    for service in broker server handler persister coordinator; do
        check "$1: every $service task starts with CURVE on (its config line)" \
            test "$(grep -c "^$service .*$config.*| curve_cert: /run/secrets/curve_cert | curve_public_dir: /app/curve\( \|$\)" "$2")" \
                 = "$(containers $service | wc -l)"
    done
    check "$1: every socket between actors is CURVE" \
        sh -c "grep 'action: socket_open | result: success' $2 | grep -v 'socket: agencies' > $work/sockets.log &&
               ! grep -v 'security: curve' $work/sockets.log"
    check "$1: no actor runs open without CURVE (actors_insecure: false, no warning)" \
        sh -c "! grep '$config' $2 | grep -v '| actors_insecure: false |' &&
               ! grep -q 'action: socket_open | result: in_progress' $2"
}

# Agencies that prove their keys, as a user checks it (docs/security.md):
# in the stack file each agency's service has its own key and no other's;
# on run 1's merged log the front-ends start with AGENCY_AUTH required and
# every agency enrolled, each agency speaks to the CURVE port, no key is
# refused and no agency falls back to the plain port.
check_agency_keys () {   # check_agency_keys WHAT FILE AGENCIES LOG
    local n secrets
    for n in $(seq 1 "$3"); do
        secrets=$(awk -v s="  client$n:" '$0 == s { on = 1; next } /^  [a-z]/ { on = 0 }
                  on && /source: agency_[0-9]/ { print $3 }' "$2" | paste -sd ' ')
        check "$1: client$n's service has its own key alone ($secrets)" test "$secrets" = "agency_$n"
    done
    check "$1: every front-end requires the agencies' keys, $3 enrolled" \
        test "$(grep -c "^server .*action: config | result: success | .*| agency_auth: required | .*| agencies_enrolled: $3\( \|$\)" "$4")" \
             = "$(containers server | wc -l)"
    check "$1: every agency speaks to the CURVE port with its key" \
        test "$(grep -c '^client[0-9]* .*action: config | result: success | .*| auth_cert: /run/secrets/agency_cert | .*| auth_address: server:12346' "$4")" = "$3"
    check "$1: no key refused, no agency on the plain protocol" \
        sh -c "! grep -q 'action: autenticacion | result: fail' '$4' && ! grep -q 'action: protocolo' '$4'"
}

# An agency without a key on the stack's network, on the plain port: its
# bet is refused, and it fails saying it must prove its key.
keyless_agency () {   # keyless_agency WHAT
    docker run --name lottery-keyless --network ${stack}_default -e CLI_ID=1 \
        -e CLI_SERVER_ADDRESS=server:12345 -e NOMBRE=Sin -e APELLIDO=Clave \
        -e DOCUMENTO=88888888 -e NACIMIENTO=1990-01-01 -e NUMERO=7574 -e CLI_LOOP_AMOUNT=1 \
        lottery-client:latest > "$work/keyless.log" 2>&1
    check "$1: an agency without a key is refused on the plain port (exit $?)" \
        grep -q 'result: fail | .*this agency must prove its key on the secure port' "$work/keyless.log"
    docker rm -f lottery-keyless >/dev/null 2>&1
}

# A front-end started on the stack's network without keys (the image as
# it is, with the stack's endpoints): the broker refuses its plain ZeroMQ
# DEALER, and a bet an agency sends through it is never stored.
rogue_peer () {   # rogue_peer WHAT
    local bets
    docker run -d --name lottery-rogue --network ${stack}_default \
        -e BROKER_ENDPOINT=tcp://broker:5565 -e WINNERS_ENDPOINT=tcp://coordinator:5564 \
        lottery-frontend:latest > "$work/rogue.id"
    docker run -d --name lottery-rogue-agency --network ${stack}_default \
        -e CLI_ID=1 -e CLI_SERVER_ADDRESS=lottery-rogue:12345 -e NOMBRE=Intrusa \
        -e APELLIDO=Plana -e DOCUMENTO=99999999 -e NACIMIENTO=1990-01-01 -e NUMERO=7574 \
        lottery-client:latest > "$work/rogue-agency.id"
    # Whichever end reads the other's greeting first sees the mismatch and
    # closes, the other only the close (HANDSHAKE_FAILED_NO_DETAIL): the
    # broker says why either way
    check "$1: the broker refuses a front-end without keys, saying why (CURVE on one side only)" \
        wait_until 20 sh -c "docker logs $(containers broker) 2>&1 |
            grep 'action: zmq_evento | result: fail | actor: broker | socket: frontends | event: HANDSHAKE_FAILED_' |
            grep -q 'CURVE on one side only'"
    check "$1: an agency's bet reaches the front-end without keys" \
        wait_until 10 sh -c "docker logs lottery-rogue 2>&1 | grep -q 'action: agencia_conectada'"
    sleep 1
    bets=$(docker run --rm -v ${stack}_bets:/data --entrypoint grep lottery-client:latest \
           -c ',99999999,' /data/bets.csv)
    check "$1: the bet sent through it is not stored, nor confirmed" \
        sh -c "[ '$bets' = 0 ] && ! docker logs lottery-rogue-agency 2>&1 | grep -q 'action: apuesta_enviada'"
    docker rm -f lottery-rogue lottery-rogue-agency >/dev/null 2>&1
}

# 1. Real data, 2 front-ends, 3 handlers, no agencies' port published;
# CURVE on by default, with keys made in a new KEYS_DIR; the stack's own
# Prometheus, its port published on this node
file=$work/stack-5.yaml
prometheus_port=$(free_port)
KEYS_DIR=$work/keys DATA_DIR=$data PUBLISH=none PROMETHEUS=on PROMETHEUS_PORT=$prometheus_port \
    sh docker/generar-stack.sh "$file" 5 3 2 >/dev/null
check "5 agencies: CURVE keys made, a secret and a public certificate per actor kind" \
    test "$(ls "$work/keys/secret/"*_secret "$work/keys/public/"*.pub | wc -l)" = 10
check "5 agencies: with CURVE the stack file does not let the actors run without it" \
    sh -c "! grep -q ACTORS_INSECURE '$file'"
check "5 agencies: the stack file with Prometheus is valid (docker stack config)" \
    sh -c "docker stack config -c '$file' >/dev/null 2>> '$work/deploy.log'"
started=$(date +%s)
check "5 agencies: stack deployed" deploy "$file"
check_run "5 agencies" 5 "$data" container_logs
check_prometheus "5 agencies" 2 3 "$(data_bets "$data" 5)"
check_curve "5 agencies" "$work/merged-5_agencies.log"
check_agency_keys "5 agencies" "$file" 5 "$work/merged-5_agencies.log"
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
stack_at_exit 'docker rm -f lottery-rogue lottery-rogue-agency >/dev/null 2>&1'
started=$(date +%s)
rogue_peer "5 agencies"
stack_at_exit 'docker rm -f lottery-keyless >/dev/null 2>&1'
keyless_agency "5 agencies"
echo "# 5 agencies: the front-end without keys checked in $(( $(date +%s) - started )) s"
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
KEYS_DIR=$work/keys DATA_DIR=$big PUBLISH=$publish sh docker/generar-stack.sh "$file" 2 3 1 >/dev/null
check "scale: stack deployed" deploy "$file"
# Done once that many handler containers run, without waiting for the
# CLI's 5 s of stability
scale_handlers () {   # scale_handlers N
    docker service scale --detach ${stack}_handler=$1 >> "$work/deploy.log" 2>&1 &&
    wait_until 60 sh -c "[ \$(docker ps -q --filter label=com.docker.swarm.service.name=${stack}_handler | wc -l) = $1 ]"
}
uploading () { docker logs "$(containers persister)" 2>&1 | grep -q "action: apuesta_recibida"; }
check "scale: the upload starts" wait_until 60 uploading
check "scale: handlers down to 1 during the upload" scale_handlers 1
check "scale: handlers up to 4 during the upload" scale_handlers 4
still_uploading () { ! tasks_ended client1 && ! tasks_ended client2; }
check "scale: the agencies were still uploading" still_uploading
if [ $publish = host ]; then
    check "scale: the health probe answers at the published port 127.0.0.1:12345" \
        sh -c "docker run --rm --network host --entrypoint lottery-ping lottery-client:latest \
               127.0.0.1:12345 | grep -q 'action: test_echo_server | result: success'"
fi
# 1.2M bets in chunks of 10 (config.yaml's), each agency proving its key:
# about 2 minutes measured here, on a machine doing nothing else
check_run "scale" 2 "$big" container_logs 5
remove_stack

# 3. Three nodes on this machine on the bridge network lottery-nodes:
# node1 the manager, labelled for the persister, node2 and node3 workers.
# Commands for the swarm go to node1's engine (DOCKER_HOST); local ones
# name this engine's containers.
here () { env -u DOCKER_HOST docker "$@"; }
remove_nodes () {
    here rm -f -v lottery-node1 lottery-node2 lottery-node3 >/dev/null 2>&1
    here network rm lottery-nodes >/dev/null 2>&1
}
# --privileged is what Docker-in-Docker usually takes; this engine lacks
# CAP_SYS_RESOURCE, so the node gets every capability but that one, and
# what else --privileged would unlock. The data directory is mounted at
# its own path, where the stack's bind mounts look for it.
start_node () {   # start_node N
    here run -d --name lottery-node$1 --hostname node$1 --network lottery-nodes \
        --cap-add ALL --cap-drop SYS_RESOURCE --cgroupns host \
        --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
        --security-opt systempaths=unconfined -v /sys/fs/cgroup:/sys/fs/cgroup \
        -v "$data:$data:ro" lottery-swarm-node >> "$work/nodes.log" 2>&1 &&
    wait_until 60 sh -c "docker exec lottery-node$1 docker info >/dev/null 2>&1"
}
placed () {   # placed SERVICE: the nodes of its running tasks, sorted
    docker service ps --filter desired-state=running --format '{{.Node}}' ${stack}_$1 | sort | paste -sd ' '
}

three_nodes () {
    local n ip1 token actors curve handlers persister frontends
    here network create lottery-nodes >/dev/null
    for n in 1 2 3; do
        check "nodes: node$n's engine answers" start_node $n || return
    done
    here save -o "$work/images.tar" lottery-broker lottery-frontend lottery-handler \
        lottery-persister lottery-coordinator lottery-client
    for n in 1 2 3; do
        check "nodes: images loaded into node$n (docker save / load)" \
            sh -c "docker exec -i lottery-node$n docker load < $work/images.tar > /dev/null"
    done
    ip1=$(here inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' lottery-node1)
    export DOCKER_HOST=tcp://$ip1:2375
    check "nodes: node1 starts a swarm" sh -c "docker swarm init --advertise-addr $ip1 >> $work/nodes.log 2>&1"
    token=$(docker swarm join-token -q worker)
    for n in 2 3; do
        check "nodes: node$n joins it" \
            sh -c "env -u DOCKER_HOST docker exec lottery-node$n \
                   docker swarm join --token $token $ip1:2377 >> $work/nodes.log 2>&1"
    done
    check "nodes: 3 nodes ready" \
        wait_until 30 sh -c "[ \$(docker node ls --format '{{.Status}}' | grep -c Ready) = 3 ]"
    docker node update --label-add lottery.bets=true node1 >/dev/null
    KEYS_DIR=$work/keys-nodes DATA_DIR=$data PUBLISH=host \
        sh docker/generar-stack.sh "$work/stack-nodes.yaml" 5 3 2 >/dev/null
    check "nodes: stack deployed" deploy "$work/stack-nodes.yaml"
    check_run "nodes" 5 "$data" service_logs
    actors=$(grep -c 'action: config | result: success | program: lottery-[a-z]* |' "$work/merged-nodes.log")
    curve=$(grep -c 'action: config | result: success | program: lottery-[a-z]* | .*| curve_cert: /run/secrets/curve_cert |' \
            "$work/merged-nodes.log")
    check "nodes: every actor starts with CURVE on ($curve of $actors), keys made through node1's engine" \
        test "$actors" -gt 0 -a "$curve" = "$actors"
    handlers=$(placed handler) persister=$(placed persister) frontends=$(placed server)
    echo "# nodes: persister on $persister, handlers on $handlers, front-ends on $frontends," \
         "broker on $(placed broker), coordinator on $(placed coordinator)"
    check "nodes: the persister runs on node1, the labelled node" test "$persister" = node1
    check "nodes: handlers run on other nodes than the persister's ($handlers)" \
        test -n "$(echo $handlers | tr ' ' '\n' | grep -v "^$persister\$")"
    check "nodes: the 2 front-ends run on 2 nodes ($frontends)" \
        test "$(echo $frontends | tr ' ' '\n' | sort -u | grep -c .)" = 2
    for n in $frontends; do
        check "nodes: an agency outside the swarm reaches the front-end published on $n:12345" \
            sh -c "env -u DOCKER_HOST docker run --rm --network lottery-nodes --entrypoint lottery-ping \
                   lottery-client:latest lottery-$n:12345 | grep -q 'action: test_echo_server | result: success'"
    done
    unset DOCKER_HOST
}

remove_nodes
stack_at_exit remove_nodes
if here build -t lottery-swarm-node - < tests/swarm_node.Dockerfile > "$work/nodes-build.log" 2>&1; then
    started=$(date +%s)
    three_nodes
    unset DOCKER_HOST
    echo "# nodes: three-node run in $(( $(date +%s) - started )) s"
    remove_nodes
else
    echo "SKIP: the swarm node image did not build (Debian's docker.io, see $work/nodes-build.log):"
    echo "the three-node swarm was not tested"
fi
finish swarm
