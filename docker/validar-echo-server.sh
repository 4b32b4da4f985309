#!/bin/sh
# validar-echo-server.sh: is the stack's server answering?
#
# Runs from the repository root after the stack is up (any compose file,
# any project name). It finds the running `server` service and its network
# by themselves, then probes server:12345 from inside that network with
# lottery-ping from the client image: no port is published and nothing is
# installed on the host. Prints `action: test_echo_server | result:
# success` or `... | result: fail`, and answers within a few seconds even
# when the server is down. The probe uses the protocol's health check
# ('P'), which stores nothing.
PORT=${SERVER_PORT:-12345}
IMAGE=${PING_IMAGE:-lottery-client:latest}

fail () {
    echo "action: test_echo_server | result: fail | reason: $1"
    exit 1
}

server=$(docker ps -q --filter label=com.docker.compose.service=server | head -n 1)
[ -n "$server" ] || fail "no running server container"
network=$(docker inspect -f '{{range $name, $n := .NetworkSettings.Networks}}{{$name}} {{end}}' \
          "$server" 2>/dev/null | awk '{ print $1 }')
[ -n "$network" ] || fail "the server container has no network"

answer=$(timeout 10 docker run --rm --network "$network" --entrypoint lottery-ping \
         -e PING_TIMEOUT=3 "$IMAGE" "server:$PORT" 2>&1)
case $answer in
    *"action: test_echo_server | result: success"*)
        echo "action: test_echo_server | result: success" ;;
    *)
        fail "$(echo "$answer" | sed -n 's/.*reason: //p' | head -n 1)" ;;
esac
