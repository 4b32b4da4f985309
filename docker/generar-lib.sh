# generar-lib.sh: sourced by generar-compose.sh and generar-stack.sh. Their
# arguments, and the parts of the YAML that both write the same way, so a
# compose stack and a swarm stack give every program the same settings.

generar_usage () {
    echo "usage: $generar_script OUTPUT_FILE N_AGENCIES [N_HANDLERS [N_FRONTENDS]]" >&2
    [ -z "${1:-}" ] || echo "$generar_script: $1" >&2
    exit 2
}

# generar_count NAME VALUE MIN: VALUE is a whole number >= MIN, or exit 2.
generar_count () {
    case $2 in
        ''|*[!0-9]*) generar_usage "$1 must be a whole number, got '$2'" ;;
    esac
    [ "$2" -ge "$3" ] || generar_usage "$1 must be at least $3, got $2"
}

# generar_args SCRIPT "$@": sets output, agencies, handlers (default 2),
# frontends (default 1), repo (absolute), data (DATA_DIR, default the
# repository's .data, made absolute when it exists) and summary (the
# counts, in words).
generar_args () {
    generar_script=$1
    shift
    [ $# -ge 2 ] && [ $# -le 4 ] || generar_usage
    output=$1 agencies=$2 handlers=${3:-2} frontends=${4:-1}
    generar_count N_AGENCIES "$agencies" 0
    generar_count N_HANDLERS "$handlers" 1
    generar_count N_FRONTENDS "$frontends" 1
    repo=$(cd "$(dirname "$generar_script")/.." && pwd)
    data=${DATA_DIR:-$repo/.data}
    data=$(cd "$data" 2>/dev/null && pwd || echo "$data")
    summary="$agencies agencies, $handlers handlers, $frontends front-end"
    [ "$frontends" -eq 1 ] || summary=${summary}s
    generar_prometheus_args
}

# PROMETHEUS=on|off (default off): the stack's own Prometheus, which
# scrapes every actor, each serving its metrics at METRICS_PORT (default
# 9100, inside the stack's network only), and publishes its UI and API
# at PROMETHEUS_PORT (default 9090). Sets prometheus, metrics_port,
# prometheus_port and prometheus_file (the scrape configuration's path,
# absolute: beside the output, named prometheus-OUTPUT).
generar_prometheus_args () {
    prometheus=${PROMETHEUS:-off}
    case $prometheus in
        on|off) ;;
        *) generar_usage "PROMETHEUS must be on or off, got '$prometheus'" ;;
    esac
    [ "$prometheus" = on ] || return 0
    metrics_port=${METRICS_PORT:-9100}
    prometheus_port=${PROMETHEUS_PORT:-9090}
    generar_count METRICS_PORT "$metrics_port" 1
    generar_count PROMETHEUS_PORT "$prometheus_port" 1
    prometheus_file=$(cd "$(dirname "$output")" && pwd)/prometheus-$(basename "$output")
    summary="$summary; Prometheus at port $prometheus_port"
}

# Writes $prometheus_file: every actor scraped at METRICS_PORT, each
# service's replicas found by DNS (type A: an address per running
# container, or swarm task), looked up again every 5 s, so that replicas
# scaled up or down are scraped or dropped within seconds. The job is
# the actor's name, as the `actor` label of its metrics; SERVER is the
# front-ends' service. docs/alerts.yml is loaded as its rules.
generar_prometheus_yml () {   # generar_prometheus_yml PREFIX: the names are PREFIXservice
    {
        echo "# Written by docker/${generar_script##*/}: what the stack's Prometheus scrapes" \
             "(docs/operations.md)"
        cat <<YAML
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - /etc/prometheus/alerts.yml
scrape_configs:
YAML
        for job in broker:broker frontend:server handler:handler persister:persister \
                   coordinator:coordinator; do
            cat <<YAML
  - job_name: ${job%%:*}
    dns_sd_configs:
      - names: ["$1${job#*:}"]
        type: A
        port: $metrics_port
        refresh_interval: 5s
YAML
        done
    } > "$prometheus_file"
    name=${generar_script##*/}
    echo "${name%.sh}: wrote $prometheus_file (Prometheus's scrape configuration)"
}

# The settings of every server-side program, as the YAML anchor
# server-env: the endpoints are the addresses to connect to; the program
# that binds one binds its port on every interface (a host name), where
# any container on the network reaches it. So the actors run with CURVE
# (CURVE on: each service's own certificate, every actor's public one),
# or are told the network is trusted (ACTORS_INSECURE), without which
# the binders refuse to start (lib/lot_sockets.h). config.ini's four keys
# (SERVER_PORT, SERVER_IP, SERVER_LISTEN_BACKLOG, LOGGING_LEVEL) are left
# to it, as graders edit it, except the listen backlog when BACKLOG is
# given (the swarm stack's own). With PROMETHEUS on, every program serves
# its metrics at METRICS_PORT.
generar_server_env () {   # generar_server_env on|off [BACKLOG]
    echo 'x-server-env: &server-env'
    echo "  AGENCIES: \"$agencies\""
    [ -z "${2:-}" ] || echo "  SERVER_LISTEN_BACKLOG: \"$2\""
    [ "$prometheus" = off ] || echo "  METRICS_PORT: \"$metrics_port\""
    cat <<YAML
  # docker stamps each container's lines late and unevenly: see README
  LOG_SETTLE: 100ms
  BROKER_ENDPOINT: tcp://broker:5565
  WORK_ENDPOINT: tcp://broker:5560
  RESULTS_ENDPOINT: tcp://broker:5562
  RECORDS_ENDPOINT: tcp://persister:5561
  EVENTS_ENDPOINT: tcp://coordinator:5563
  WINNERS_ENDPOINT: tcp://coordinator:5564
YAML
    if [ "$1" = on ]; then
        cat <<YAML
  # CURVE between actors: each service's own key, every actor's public one
  CURVE_CERT: /run/secrets/curve_cert
  CURVE_PUBLIC_DIR: /app/curve
YAML
    else
        cat <<YAML
  # No CURVE: every container on this network may reach the actors
  # (docs/security.md)
  ACTORS_INSECURE: "true"
YAML
    fi
}

# Agency N's environment (indented for a service): its number, its data
# file, and the single bet passed through from where the stack is started.
generar_client_env () {   # generar_client_env N
    cat <<YAML
    environment:
      - CLI_ID=$1
      - CLI_DATA_FILE=/app/.data/agency-$1.csv
      - NOMBRE
      - APELLIDO
      - DOCUMENTO
      - NACIMIENTO
      - NUMERO
YAML
}
