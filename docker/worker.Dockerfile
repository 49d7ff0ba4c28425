# The worker image: torch, the model code and the queue worker.
#   docker build -f docker/worker.Dockerfile -t fakewatch-worker:cuda .
#   docker build -f docker/worker.Dockerfile --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu -t fakewatch-worker:cpu .
# Weights are not baked in: mount a folder at /app/weights (FAKEWATCH_WEIGHTS_DIR).
FROM python:3.11-slim-bookworm

# Which torch build: a CUDA index for GPU workers, the CPU index for the fallback.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126
ARG TORCH_VERSION=2.13.0
ARG TORCHVISION_VERSION=0.28.0

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FAKEWATCH_DATA_DIR=/data \
    FAKEWATCH_WEIGHTS_DIR=/app/weights

# torch first and pinned, from the chosen index: a looser request would pull another build.
RUN pip install --index-url "${TORCH_INDEX_URL}" \
    "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}"

WORKDIR /app
COPY pyproject.toml README.md ./
COPY base ./base
COPY fakewatch ./fakewatch
COPY inference ./inference
COPY bench ./bench
COPY queue_worker ./queue_worker
COPY db ./db
COPY bots ./bots
COPY training ./training
COPY dashboard ./dashboard
RUN pip install ".[inference,service,metrics]"

RUN useradd --system --uid 10001 --create-home --home-dir /home/fakewatch fakewatch \
    && mkdir -p /data /app/weights && chown fakewatch /data
USER fakewatch
VOLUME ["/data"]
# The Prometheus exporter, when FAKEWATCH_METRICS_PORT is set (see queue_worker/metrics.py).
EXPOSE 9100
CMD ["fakewatch", "worker"]
