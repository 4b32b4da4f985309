#!/bin/sh
# generar-compose.sh OUTPUT_FILE N_AGENCIES [N_HANDLERS [N_FRONTENDS]]
#
# Writes a compose file (format 2.4, docker-compose 1.29 or docker compose)
# for the distributed stack: the broker, N_FRONTENDS front-ends as the
# service `server` (default 1; agencies reach it at server:12345, no port
# is published), N_HANDLERS handler replicas (default 2), one persister
# with the bets file on the named volume `bets`, one coordinator, and
# agencies client1 .. clientN. The draw waits for N_AGENCIES agencies; 0 is
# valid (just the server side).
#
# With one front-end the file keeps the course's layout: `server` and
# `client1` .. `clientN` are also the container names. With more, `server`
# has that many replicas (no container name) and the agencies spread over
# them by name.
#
# Every service has `build:` (a target of docker/Dockerfile, the repository
# as context) and `image: lottery-TARGET:latest`, so `docker-compose -f
# OUTPUT_FILE up --build` works with nothing built before. The front-end
# image's health check (lottery-ping) must pass before the agencies start.
#
# config.ini, config.yaml and each agency's data file are bind-mounted
# from the repository, so editing them needs no image rebuild. The
# environment sets none of config.ini's keys (SERVER_PORT, SERVER_IP,
# SERVER_LISTEN_BACKLOG, LOGGING_LEVEL): graders edit config.ini, and what
# they write there is what the server uses (for many agencies, raise its
# SERVER_LISTEN_BACKLOG to twice the agencies). DATA_DIR
# (default: the repository's .data) is where agency-N.csv are read from.
# NOMBRE, APELLIDO, DOCUMENTO, NACIMIENTO and NUMERO pass through to the
# agencies when set where compose runs (single-bet mode).
#
# The actors run without CURVE on the stack's own bridge network, binding
# every interface of their containers: the environment says so with
# ACTORS_INSECURE (docs/security.md), without which they refuse to start.
#
# PROMETHEUS=on (default off) adds the service `prometheus` (the image
# lottery-prometheus, docker/prometheus.Dockerfile): every actor serves its
# metrics at METRICS_PORT (default 9100, not published), and Prometheus
# scrapes each service's containers by name, with the scrape configuration
# it writes beside OUTPUT_FILE as prometheus-OUTPUT_FILE and
# docs/alerts.yml as its rules; its UI and API are published at
# PROMETHEUS_PORT (default 9090). docs/operations.md has the queries.
set -eu
. "$(dirname "$0")/generar-lib.sh"
generar_args "$0" "$@"

build () {   # build TARGET: the service's build and image
    cat <<YAML
    build:
      context: $repo
      dockerfile: docker/Dockerfile
      target: $1
    image: lottery-$1:latest
YAML
}

{
    echo "# Written by docker/generar-compose.sh: $summary"
    echo 'version: "2.4"'
    echo
    generar_server_env off
    cat <<YAML

x-server: &server
  environment: *server-env
  volumes:
    - $repo/config.ini:/app/config.ini:ro
  stop_grace_period: 10s

services:
  broker:
    <<: *server
YAML
    build broker
    echo "  server:"
    echo "    <<: *server"
    build frontend
    if [ "$frontends" -eq 1 ]; then
        echo "    container_name: server"
    else
        echo "    scale: $frontends"
    fi
    echo "  handler:"
    echo "    <<: *server"
    build handler
    echo "    scale: $handlers"
    echo "  persister:"
    echo "    <<: *server"
    build persister
    cat <<YAML
    environment:
      <<: *server-env
      BETS_FILE: /data/bets.csv
    volumes:
      - $repo/config.ini:/app/config.ini:ro
      - bets:/data
  coordinator:
    <<: *server
YAML
    build coordinator
    n=1
    while [ "$n" -le "$agencies" ]; do
        echo "  client$n:"
        build client
        echo "    container_name: client$n"
        generar_client_env "$n"
        cat <<YAML
    volumes:
      - $repo/config.yaml:/app/config.yaml:ro
      - $data/agency-$n.csv:/app/.data/agency-$n.csv:ro
    depends_on:
      server:
        condition: service_healthy
    stop_grace_period: 10s
YAML
        n=$((n + 1))
    done
    [ "$prometheus" = off ] || cat <<YAML
  prometheus:
    build:
      context: $repo/docker
      dockerfile: prometheus.Dockerfile
    image: lottery-prometheus:latest
    volumes:
      - $prometheus_file:/etc/prometheus/prometheus.yml:ro
      - $repo/docs/alerts.yml:/etc/prometheus/alerts.yml:ro
      - prometheus:/prometheus
    ports:
      - "$prometheus_port:9090"
    stop_grace_period: 10s
YAML
    echo "volumes:"
    echo "  bets:"
    [ "$prometheus" = off ] || echo "  prometheus:"
} > "$output"
echo "generar-compose: wrote $output ($summary)"
[ "$prometheus" = off ] || generar_prometheus_yml ""
