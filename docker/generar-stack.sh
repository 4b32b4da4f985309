#!/bin/sh
# generar-stack.sh OUTPUT_FILE N_AGENCIES [N_HANDLERS [N_FRONTENDS]]
#
# Writes a stack file (format 3.8) for Docker Swarm:
#
#   docker stack deploy --resolve-image never -c OUTPUT_FILE NAME
#
# The same programs, settings and endpoints as generar-compose.sh's file:
# the broker, N_FRONTENDS front-ends as the replicated service `server`
# (default 1), N_HANDLERS handler replicas (default 2), one persister with
# the bets file at the root of the volume `bets` (the stack's NAME_bets),
# one coordinator, and agencies client1 .. clientN as one-shot services
# (never restarted). docs/deploy.md explains each choice; in short:
#
# - Every service resolves by DNS round robin (endpoint_mode: dnsrr), not
#   through a virtual IP: a VIP needs IPVS in the kernel, which one-node
#   swarms here lack, and IPVS drops long idle connections, which ZeroMQ's
#   are. ZeroMQ resolves the name again on each reconnect, so a task that
#   moves is found.
# - PUBLISH says how agencies outside the swarm reach the front-ends:
#     host     (default) each node that runs a front-end opens
#              PUBLISHED_PORT to it; at most one front-end per node, so on
#              one node run one front-end, or PUBLISH=none. Works on every
#              kernel.
#     ingress  the routing mesh: every node's PUBLISHED_PORT reaches any
#              front-end, through a VIP. Needs IPVS (not on these
#              machines: connections are refused).
#     none     no port: only agencies in the stack's network (the
#              attachable overlay NAME_default) reach `server`.
#   PUBLISHED_PORT defaults to config.ini's SERVER_PORT (12345).
# - The persister must always run where its volume is: it is placed by
#   PERSISTER_CONSTRAINT, default `node.labels.lottery.bets == true`; label
#   one node before deploying:
#     docker node update --label-add lottery.bets=true NODE
# - config.ini and config.yaml become swarm configs (read here when
#   deploying, then served to any node). A config cannot change: after
#   editing either, `docker stack rm NAME` and deploy again.
# - Each agency's data file (DATA_DIR, default the repository's .data) is
#   bind-mounted from its absolute path, which must exist on the node that
#   runs the agency: agencies are placed by CLIENT_CONSTRAINT, default
#   `node.role == manager` (where you deploy from).
# - No image is built or pulled: lottery-TARGET:latest (make docker-build)
#   must exist on every node that may run it (docker save | docker load
#   moves them when there is no registry).
#
# NOMBRE, APELLIDO, DOCUMENTO, NACIMIENTO and NUMERO pass through to the
# agencies when set where `docker stack deploy` runs (single-bet mode).
set -eu
. "$(dirname "$0")/generar-lib.sh"
generar_args "$0" "$@"

publish=${PUBLISH:-host}
case $publish in
    host|ingress|none) ;;
    *) generar_usage "PUBLISH must be host, ingress or none, got '$publish'" ;;
esac
port=$(sed -n 's/^SERVER_PORT *= *\([0-9][0-9]*\).*/\1/p' "$repo/config.ini" | head -n 1)
port=${port:-12345}
published=${PUBLISHED_PORT:-$port}
generar_count PUBLISHED_PORT "$published" 1
persister_constraint=${PERSISTER_CONSTRAINT:-node.labels.lottery.bets == true}
client_constraint=${CLIENT_CONSTRAINT:-node.role == manager}

deploy () {   # deploy REPLICAS [ENDPOINT_MODE [CONSTRAINT [MAX_PER_NODE]]]
    echo "    deploy:"
    echo "      replicas: $1"
    echo "      endpoint_mode: ${2:-dnsrr}"
    [ -n "${3:-}${4:-}" ] || return 0
    echo "      placement:"
    [ -z "${3:-}" ] || echo "        constraints: [\"$3\"]"
    [ -z "${4:-}" ] || echo "        max_replicas_per_node: $4"
}

{
    echo "# Written by docker/generar-stack.sh: $summary; publishing: $publish"
    echo 'version: "3.8"'
    echo
    generar_server_env
    cat <<YAML

x-server: &server
  environment: *server-env
  configs:
    - source: config_ini
      target: /app/config.ini
  stop_grace_period: 10s

services:
  broker:
    <<: *server
    image: lottery-broker:latest
YAML
    deploy 1
    echo "  server:"
    echo "    <<: *server"
    echo "    image: lottery-frontend:latest"
    case $publish in
        host)
            deploy "$frontends" dnsrr "" 1 ;;
        ingress)
            deploy "$frontends" vip ;;
        none)
            deploy "$frontends" ;;
    esac
    [ "$publish" = none ] || cat <<YAML
    ports:
      - target: $port
        published: $published
        protocol: tcp
        mode: $publish
YAML
    echo "  handler:"
    echo "    <<: *server"
    echo "    image: lottery-handler:latest"
    deploy "$handlers"
    cat <<YAML
  persister:
    <<: *server
    image: lottery-persister:latest
    environment:
      <<: *server-env
      BETS_FILE: /data/bets.csv
    volumes:
      - bets:/data
YAML
    deploy 1 dnsrr "$persister_constraint"
    echo "  coordinator:"
    echo "    <<: *server"
    echo "    image: lottery-coordinator:latest"
    deploy 1
    n=1
    while [ "$n" -le "$agencies" ]; do
        echo "  client$n:"
        echo "    image: lottery-client:latest"
        generar_client_env "$n"
        cat <<YAML
    configs:
      - source: config_yaml
        target: /app/config.yaml
    volumes:
      - type: bind
        source: $data/agency-$n.csv
        target: /app/.data/agency-$n.csv
        read_only: true
    stop_grace_period: 10s
YAML
        deploy 1 dnsrr "$client_constraint"
        echo "      restart_policy:"
        echo "        condition: none"
        n=$((n + 1))
    done
    cat <<YAML
networks:
  default:
    driver: overlay
    attachable: true
volumes:
  bets:
configs:
  config_ini:
    file: $repo/config.ini
  config_yaml:
    file: $repo/config.yaml
YAML
} > "$output"
echo "generar-stack: wrote $output ($summary; publishing: $publish)"
case $persister_constraint in
    'node.labels.lottery.bets == true')
        echo "generar-stack: the persister runs only on a node labelled lottery.bets=true:" \
             "docker node update --label-add lottery.bets=true NODE" ;;
esac
if [ "$publish" = host ] && [ "$frontends" -gt 1 ]; then
    echo "generar-stack: PUBLISH=host runs at most one front-end per node:" \
         "$frontends front-ends need $frontends nodes"
fi
