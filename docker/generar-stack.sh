#!/bin/sh
# generar-stack.sh OUTPUT_FILE N_AGENCIES [N_HANDLERS [N_FRONTENDS]]
#
# Writes a stack file (format 3.8) for Docker Swarm:
#
#   docker stack deploy --resolve-image never -c OUTPUT_FILE NAME
#
# The same programs, settings and endpoints as generar-compose.sh's file,
# plus SERVER_LISTEN_BACKLOG in the environment (twice the agencies, at
# least 128, over config.ini's):
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
# - CURVE says whether the actors encrypt and authenticate every link
#   between them (lib/lot_curve.h), which the overlay network does not:
#     on       (default) each actor service gets its kind's secret
#              certificate as a swarm secret (/run/secrets/curve_cert, its
#              CURVE_CERT) and every actor service the public ones as
#              configs in /app/curve (CURVE_PUBLIC_DIR); all replicas of a
#              kind share its key. The agencies' port stays plain TCP.
#     off      no keys: the actors trust the overlay network, and are
#              told so (ACTORS_INSECURE), as they bind every interface.
#   The keys are read from KEYS_DIR (default the repository's .run/keys,
#   which git ignores), laid out as `bin/lottery-keys KEYS_DIR` makes them;
#   the kinds missing there are made with lottery-keys from the image
#   lottery-broker:latest, and the ones there are kept, so a redeploy uses
#   the same keys. Secrets cannot change either: to rotate the keys,
#   `docker stack rm NAME`, remove KEYS_DIR, and deploy again.
# - AGENCY_AUTH says who may speak for an agency (docs/security.md):
#     required (default) every agency proves its own key on the CURVE
#              port (SECURE_PORT, 12346, published as the agencies' port
#              is): the front-end gets its certificate as the secret
#              agency_cert and the enrolled agencies' public ones as
#              configs in /app/enrolled; agency N alone gets its secret
#              certificate (the secret agency_N) and the server's public
#              one, and speaks to server:12346.
#     off      the plain protocol, for anyone, as the compose file.
#   The keys are KEYS_DIR/agencies, laid out by bin/lottery-enroll (made
#   with the broker image's, for the agencies missing there; the ones
#   there are kept). Revoking or rotating a key: docs/deploy.md.
# - PROMETHEUS=on (default off) adds the service `prometheus` (the image
#   lottery-prometheus, docker/prometheus.Dockerfile), as generar-compose.sh
#   does: every actor serves its metrics at METRICS_PORT (default 9100,
#   in the overlay network only), Prometheus finds each service's tasks
#   by DNS (tasks.SERVICE) with the scrape configuration written beside
#   OUTPUT_FILE as prometheus-OUTPUT_FILE (a swarm config, as
#   docs/alerts.yml, its rules), and publishes its UI and API at
#   PROMETHEUS_PORT (default 9090) in host mode, on the node it runs on:
#   PROMETHEUS_CONSTRAINT, default `node.role == manager`, where its
#   volume (NAME_prometheus, its time series) stays.
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
# Room in the kernel's accept queue for every agency's bets and winners
# connections at once: twice the agencies, at least 128 (config.ini's
# course value, 5, is for one machine's few agencies; see README.md). The
# compose file leaves it to config.ini, which graders edit.
backlog=$((agencies * 2 > 128 ? agencies * 2 : 128))
persister_constraint=${PERSISTER_CONSTRAINT:-node.labels.lottery.bets == true}
client_constraint=${CLIENT_CONSTRAINT:-node.role == manager}
prometheus_constraint=${PROMETHEUS_CONSTRAINT:-node.role == manager}
curve=${CURVE:-on}
case $curve in
    on|off) ;;
    *) generar_usage "CURVE must be on or off, got '$curve'" ;;
esac
keys=${KEYS_DIR:-$repo/.run/keys}
auth=${AGENCY_AUTH:-required}
case $auth in
    required|off) ;;
    *) generar_usage "AGENCY_AUTH must be required or off, got '$auth'" ;;
esac
secure=12346
# The actor kinds with a key of their own (lot_curve_kinds), in the order
# of the services
kinds="broker frontend handler persister coordinator"

# Makes the kinds' certificates missing in $keys with the broker image's
# lottery-keys; never replaces one, nor half of one (a secret without its
# public half, or the reverse, is an error to mend by hand). The container
# writes into its own file system and the keys come out as a tar stream,
# not through a bind mount: DOCKER_HOST may be another machine's engine,
# which cannot see this one's files.
make_keys () {
    missing=
    for kind in $kinds; do
        secret=$keys/secret/${kind}_secret public=$keys/public/$kind.pub
        if [ -f "$secret" ] && [ -f "$public" ]; then
            continue
        elif [ -f "$secret" ] || [ -f "$public" ]; then
            echo "$generar_script: $secret and $public go together:" \
                 "remove the one there to make a new $kind key" >&2
            exit 1
        fi
        missing="$missing $kind"
    done
    [ -n "$missing" ] || return 0
    mkdir -p "$keys"
    # shellcheck disable=SC2086  # one argument per kind
    docker run --rm --pull never --entrypoint sh lottery-broker:latest -c \
            'lottery-keys /tmp/keys "$@" > /tmp/log || { cat /tmp/log >&2; exit 1; }
             tar -C /tmp/keys -cf - .' keys $missing \
        | tar -C "$keys" --no-same-owner --keep-old-files -xf - \
        || { echo "$generar_script: cannot make the CURVE keys in $keys:" \
                  "lottery-broker:latest (make docker-build) makes them" >&2; exit 1; }
    echo "generar-stack: made CURVE keys for$missing in $keys"
}
if [ "$curve" = on ]; then
    make_keys
    keys=$(cd "$keys" && pwd)
    curve_note="; CURVE on, keys from $keys"
fi

# Enrolls the agencies missing in $keys/agencies with the broker image's
# lottery-enroll (which makes the front-end's key the first time), the
# keys out as a tar stream, as make_keys.
enroll_agencies () {
    missing=
    n=1
    while [ "$n" -le "$agencies" ]; do
        [ -f "$keys/agencies/server/enrolled/agency-$n.pub" ] || missing="$missing $n"
        n=$((n + 1))
    done
    [ -n "$missing" ] || return 0
    mkdir -p "$keys/agencies"
    # shellcheck disable=SC2086  # one argument per agency
    tar -C "$keys/agencies" -cf - . \
        | docker run --rm -i --pull never --entrypoint sh lottery-broker:latest -c \
            'mkdir /tmp/keys && tar -C /tmp/keys -xf - \
             && lottery-enroll /tmp/keys "$@" > /tmp/log || { cat /tmp/log >&2; exit 1; }
             tar -C /tmp/keys -cf - .' enroll $missing \
        | tar -C "$keys/agencies" --no-same-owner -xf - \
        || { echo "$generar_script: cannot enroll the agencies in $keys/agencies:" \
                  "lottery-broker:latest (make docker-build) does it" >&2; exit 1; }
    echo "generar-stack: enrolled agencies$missing in $keys/agencies"
}
if [ "$auth" = required ]; then
    mkdir -p "$keys"
    keys=$(cd "$keys" && pwd)
    enroll_agencies
    curve_note="${curve_note:-}; agencies prove their keys, from $keys/agencies"
fi

# With CURVE on: a service's own certificate (its kind's) as a secret
# readable by the images' user (lottery, uid 10001) alone
curve_secret () {   # curve_secret KIND
    [ "$curve" = on ] || return 0
    cat <<YAML
    secrets:
      - source: curve_$1
        target: curve_cert
        uid: "10001"
        mode: 0400
YAML
}

# Prints FORMAT once per agency, its two %s the agency's number.
each_agency () {   # each_agency FORMAT
    n=1
    while [ "$n" -le "$agencies" ]; do
        # shellcheck disable=SC2059  # the format is the caller's
        printf "$1" "$n" "$n"
        n=$((n + 1))
    done
}

# The front-end's secrets: its actor key (CURVE on), its agencies' key
# (AGENCY_AUTH required).
server_secrets () {
    [ "$curve" = on ] || [ "$auth" = required ] || return 0
    echo "    secrets:"
    if [ "$curve" = on ]; then
        cat <<YAML
      - source: curve_frontend
        target: curve_cert
        uid: "10001"
        mode: 0400
YAML
    fi
    [ "$auth" = off ] || cat <<YAML
      - source: agency_cert
        target: agency_cert
        uid: "10001"
        mode: 0400
YAML
}

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
    echo "# Written by docker/generar-stack.sh: $summary; publishing: $publish${curve_note:-}"
    echo 'version: "3.8"'
    echo
    generar_server_env "$curve" "$backlog"
    cat <<YAML

x-server: &server
  environment: *server-env
  configs:
    - source: config_ini
      target: /app/config.ini
YAML
    if [ "$curve" = on ]; then
        for kind in $kinds; do
            echo "    - source: curve_${kind}_pub"
            echo "      target: /app/curve/$kind.pub"
        done
    fi
    cat <<YAML
  stop_grace_period: 10s

services:
  broker:
    <<: *server
    image: lottery-broker:latest
YAML
    curve_secret broker
    deploy 1
    echo "  server:"
    echo "    <<: *server"
    echo "    image: lottery-frontend:latest"
    if [ "$auth" = required ]; then
        cat <<YAML
    environment:
      <<: *server-env
      # Every agency proves its own key on the CURVE port (docs/security.md)
      AGENCY_AUTH: required
      AGENCY_CERT: /run/secrets/agency_cert
      AGENCY_KEYS: /app/enrolled
    configs:
      - source: config_ini
        target: /app/config.ini
YAML
        each_agency '      - source: enrolled_%s\n        target: /app/enrolled/agency-%s.pub\n'
        if [ "$curve" = on ]; then
            for kind in $kinds; do
                echo "      - source: curve_${kind}_pub"
                echo "        target: /app/curve/$kind.pub"
            done
        fi
    fi
    server_secrets
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
    [ "$publish" = none ] || [ "$auth" = off ] || cat <<YAML
      - target: $secure
        published: $secure
        protocol: tcp
        mode: $publish
YAML
    echo "  handler:"
    echo "    <<: *server"
    echo "    image: lottery-handler:latest"
    curve_secret handler
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
    curve_secret persister
    deploy 1 dnsrr "$persister_constraint"
    echo "  coordinator:"
    echo "    <<: *server"
    echo "    image: lottery-coordinator:latest"
    curve_secret coordinator
    deploy 1
    n=1
    while [ "$n" -le "$agencies" ]; do
        echo "  client$n:"
        echo "    image: lottery-client:latest"
        generar_client_env "$n"
        [ "$auth" = off ] || cat <<YAML
      # Its own key, and the server's, which it pins (docs/security.md)
      - CLI_AUTH_CERT=/run/secrets/agency_cert
      - CLI_AUTH_SERVER=/app/server.pub
      - CLI_AUTH_ADDRESS=server:$secure
    secrets:
      - source: agency_$n
        target: agency_cert
        uid: "10001"
        mode: 0400
    configs:
      - source: agency_server_pub
        target: /app/server.pub
YAML
        [ "$auth" = required ] || echo "    configs:"
        cat <<YAML
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
    if [ "$prometheus" = on ]; then
        cat <<YAML
  prometheus:
    image: lottery-prometheus:latest
    configs:
      - source: prometheus_yml
        target: /etc/prometheus/prometheus.yml
      - source: prometheus_alerts
        target: /etc/prometheus/alerts.yml
    volumes:
      - prometheus:/prometheus
    ports:
      - target: 9090
        published: $prometheus_port
        protocol: tcp
        mode: host
    stop_grace_period: 10s
YAML
        deploy 1 dnsrr "$prometheus_constraint"
    fi
    cat <<YAML
networks:
  default:
    driver: overlay
    attachable: true
volumes:
  bets:
YAML
    [ "$prometheus" = off ] || echo "  prometheus:"
    cat <<YAML
configs:
  config_ini:
    file: $repo/config.ini
  config_yaml:
    file: $repo/config.yaml
YAML
    [ "$prometheus" = off ] || cat <<YAML
  prometheus_yml:
    file: $prometheus_file
  prometheus_alerts:
    file: $repo/docs/alerts.yml
YAML
    if [ "$curve" = on ]; then
        for kind in $kinds; do
            echo "  curve_${kind}_pub:"
            echo "    file: $keys/public/$kind.pub"
        done
    fi
    if [ "$auth" = required ]; then
        echo "  agency_server_pub:"
        echo "    file: $keys/agencies/server/public/agencies.pub"
        each_agency "  enrolled_%s:\n    file: $keys/agencies/server/enrolled/agency-%s.pub\n"
    fi
    [ "$curve" = off ] && [ "$auth" = off ] || echo "secrets:"
    if [ "$curve" = on ]; then
        for kind in $kinds; do
            echo "  curve_$kind:"
            echo "    file: $keys/secret/${kind}_secret"
        done
    fi
    if [ "$auth" = required ]; then
        echo "  agency_cert:"
        echo "    file: $keys/agencies/server/secret/agencies_secret"
        each_agency "  agency_%s:\n    file: $keys/agencies/agency-%s/agency_secret\n"
    fi
} > "$output"
echo "generar-stack: wrote $output ($summary; publishing: $publish; CURVE $curve; AGENCY_AUTH $auth)"
[ "$prometheus" = off ] || generar_prometheus_yml tasks.
case $persister_constraint in
    'node.labels.lottery.bets == true')
        echo "generar-stack: the persister runs only on a node labelled lottery.bets=true:" \
             "docker node update --label-add lottery.bets=true NODE" ;;
esac
if [ "$publish" = host ] && [ "$frontends" -gt 1 ]; then
    echo "generar-stack: PUBLISH=host runs at most one front-end per node:" \
         "$frontends front-ends need $frontends nodes"
fi
