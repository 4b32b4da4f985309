# A swarm node for tests: a Docker engine (Debian's docker.io) in a
# container, the role docker:dind plays where Docker Hub can be reached.
# Built with no context:
#   docker build -t lottery-swarm-node - < tests/swarm_node.Dockerfile
# Run as test_swarm.sh does (docs/deploy.md, "Three nodes on one machine").
# Its engine listens on the unix socket and, without TLS, on TCP 2375:
# reach it only on the test's own bridge network.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        docker.io iptables iproute2 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
VOLUME /var/lib/docker
ENTRYPOINT ["dockerd", "--host=unix:///var/run/docker.sock", "--host=tcp://0.0.0.0:2375", "--tls=false"]
