# The DarkHorses code location image (docs/deploy.md). One image serves the gRPC code server, the webserver,
# the daemon, every run container (Docker, Kubernetes) and the Celery workers: Dagster starts runs and
# steps from the code location's own image, so they all run the same code.
#
#   docker build -t darkhorses:latest .                          # with dagster-docker (the default)
#   docker build -t darkhorses:latest --build-arg EXTRAS=k8s .   # for the Helm chart
#   docker build -t darkhorses:latest --build-arg EXTRAS=celery --build-arg DAGSTER_YAML=deploy/celery/dagster.yaml .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home

WORKDIR /opt/dagster/app

# Dependencies first (cached while only code changes): dagster 1.13.27 and its 0.29.27 libraries pin each other.
ARG EXTRAS=docker
COPY pyproject.toml setup.py README.md ./
COPY darkhorses_assets ./darkhorses_assets
# uid 10001 for platforms that run containers as non-root (deploy/k8s/values.yaml does). Compose runs as root:
# its daemon and webserver use the Docker socket to start run containers.
RUN pip install ".[${EXTRAS}]" && useradd --system --uid 10001 --home-dir /opt/dagster dagster

COPY workspace.yaml ./
COPY deploy ./deploy
# The instance this image's processes use unless the platform mounts its own (compose and the Helm chart do).
ARG DAGSTER_YAML=deploy/docker/dagster.yaml
RUN mkdir -p "$DAGSTER_HOME/storage" && cp "$DAGSTER_YAML" "$DAGSTER_HOME/dagster.yaml" \
    && chown -R dagster "$DAGSTER_HOME"

EXPOSE 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", \
     "-m", "darkhorses_assets.definitions", "--location-name", "darkhorses_assets.definitions"]
