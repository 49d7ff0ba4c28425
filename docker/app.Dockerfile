# The light image: the bots and the dashboard. No torch: they never import the model code
# (import-linter contracts in pyproject.toml), they queue work for the workers.
#   docker build -f docker/app.Dockerfile -t fakewatch-app .
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FAKEWATCH_DATA_DIR=/data

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
RUN pip install ".[service,metrics,dashboard,telegram,discord]" \
    && python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is not None)"

RUN useradd --system --uid 10001 --create-home --home-dir /home/fakewatch fakewatch \
    && mkdir -p /data && chown fakewatch /data
USER fakewatch
VOLUME ["/data"]
EXPOSE 8080
CMD ["fakewatch", "dashboard", "--host", "0.0.0.0", "--port", "8080"]
