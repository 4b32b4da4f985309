#!/bin/sh
# generar-compose.sh OUTPUT_FILE N_AGENCIES [N_HANDLERS]
#
# Writes a compose file for the distributed stack: the front-end as
# `server` (agencies reach it at server:12345), N_HANDLERS handler replicas
# (default 2), one persister with the bets file on the named volume
# `bets`, one coordinator, and agencies client1 .. clientN. The draw waits
# for N_AGENCIES agencies; 0 is valid (just the server side).
#
# config.ini, config.yaml and each agency's data file are bind-mounted
# from the repository, so editing them needs no image rebuild. DATA_DIR
# (default: the repository's .data) is where agency-N.csv are read from.
# NOMBRE, APELLIDO, DOCUMENTO, NACIMIENTO and NUMERO pass through to the
# agencies when set where compose runs (single-bet mode).
set -eu

usage () {
    echo "usage: $0 OUTPUT_FILE N_AGENCIES [N_HANDLERS]" >&2
    exit 2
}
[ $# -ge 2 ] && [ $# -le 3 ] || usage
output=$1 agencies=$2 handlers=${3:-2}
case $agencies in ''|*[!0-9]*) usage ;; esac
case $handlers in ''|*[!0-9]*) usage ;; esac
[ "$handlers" -ge 1 ] || { echo "$0: N_HANDLERS must be at least 1" >&2; exit 2; }

# Room in the kernel's accept queue for every agency's bets and winners
# connections at once (config.ini's course value, 5, is for one machine's
# few agencies; see README.md)
backlog=$((agencies * 2 > 128 ? agencies * 2 : 128))

repo=$(cd "$(dirname "$0")/.." && pwd)
data=$(cd "${DATA_DIR:-$repo/.data}" 2>/dev/null && pwd || echo "${DATA_DIR:-$repo/.data}")

{
    cat <<YAML
# Written by docker/generar-compose.sh: $agencies agencies, $handlers handlers
version: "2.4"

# What every server-side actor is given. The endpoints are the addresses
# to connect to; the actor that binds one binds its port on every interface.
x-server-env: &server-env
  AGENCIES: "$agencies"
  SERVER_LISTEN_BACKLOG: "$backlog"
  # docker stamps each container's lines late and unevenly: see README
  LOG_SETTLE: 100ms
  WORK_ENDPOINT: tcp://server:5560
  RECORDS_ENDPOINT: tcp://persister:5561
  RESULTS_ENDPOINT: tcp://server:5562
  EVENTS_ENDPOINT: tcp://coordinator:5563
  WINNERS_ENDPOINT: tcp://coordinator:5564

x-server: &server
  environment: *server-env
  volumes:
    - $repo/config.ini:/app/config.ini:ro
  stop_grace_period: 10s

services:
  server:
    <<: *server
    image: lottery-frontend:latest
    container_name: server
  handler:
    <<: *server
    image: lottery-handler:latest
    scale: $handlers
  persister:
    <<: *server
    image: lottery-persister:latest
    environment:
      <<: *server-env
      BETS_FILE: /data/bets.csv
    volumes:
      - $repo/config.ini:/app/config.ini:ro
      - bets:/data
  coordinator:
    <<: *server
    image: lottery-coordinator:latest
YAML
    n=1
    while [ "$n" -le "$agencies" ]; do
        cat <<YAML
  client$n:
    image: lottery-client:latest
    container_name: client$n
    environment:
      - CLI_ID=$n
      - CLI_DATA_FILE=/app/.data/agency-$n.csv
      - NOMBRE
      - APELLIDO
      - DOCUMENTO
      - NACIMIENTO
      - NUMERO
    volumes:
      - $repo/config.yaml:/app/config.yaml:ro
      - $data/agency-$n.csv:/app/.data/agency-$n.csv:ro
    depends_on:
      - server
    stop_grace_period: 10s
YAML
        n=$((n + 1))
    done
    echo "volumes:"
    echo "  bets:"
} > "$output"
echo "generar-compose: wrote $output ($agencies agencies, $handlers handlers)"
