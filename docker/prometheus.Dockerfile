# The stack's own Prometheus (PROMETHEUS=on in docker/generar-compose.sh
# and docker/generar-stack.sh), from Debian's package: no registry image.
#   docker build -f docker/prometheus.Dockerfile -t lottery-prometheus docker
# The generators give it its prometheus.yml (which actors to scrape) at
# /etc/prometheus/prometheus.yml and docs/alerts.yml at
# /etc/prometheus/alerts.yml; it keeps its time series in /prometheus.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && mkdir -p /prometheus \
 && chown prometheus:prometheus /prometheus
WORKDIR /prometheus
USER prometheus
EXPOSE 9090
VOLUME /prometheus
ENTRYPOINT ["/usr/bin/prometheus", "--config.file=/etc/prometheus/prometheus.yml", \
            "--storage.tsdb.path=/prometheus", "--web.listen-address=:9090"]
