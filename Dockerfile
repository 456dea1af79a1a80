# Tessera API server. Embedded SQLite under /data by default; set TESSERA_DATABASE_URL for
# PostgreSQL (then run `tessera migrate` once and `tessera worker` containers beside it).

# The web app, built once in its own stage: the image ships web/dist, not Node.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web ./
RUN npx vite build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TESSERA_DATA_DIR=/data \
    TESSERA_WEB_DIR=/app/web/dist

WORKDIR /app
# Dependencies first, in their own layer, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p app consensus payments workers migrations tessera \
    && touch app/__init__.py consensus/__init__.py payments/__init__.py workers/__init__.py migrations/__init__.py tessera/__init__.py \
    && pip install . \
    && pip uninstall -y tessera
COPY alembic.ini ./
COPY app ./app
COPY consensus ./consensus
COPY payments ./payments
COPY workers ./workers
COPY migrations ./migrations
COPY tessera ./tessera
COPY --from=web /web/dist ./web/dist
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /data tessera \
    && mkdir -p /data && chown tessera /data

USER tessera
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
CMD ["tessera", "serve", "--host", "0.0.0.0", "--port", "8000"]
