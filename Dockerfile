# Builds crm-api with the web app it serves, and crm-worker (same image, another entrypoint).
# Used by docker-compose.yml; `make run` is the way without Docker.
FROM rust:1.95-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev nodejs npm \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add wasm32-unknown-unknown
WORKDIR /src
COPY Cargo.toml Cargo.lock clippy.toml ./
COPY .cargo .cargo
COPY crates crates
COPY frontend frontend
COPY migrations migrations
COPY scripts scripts
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    scripts/frontend.sh \
    && cargo build --release --locked -p crm-api -p crm-worker \
    && cp target/release/crm-api target/release/crm-worker /usr/local/bin/

FROM debian:bookworm-slim
# postgresql-client: pg_dump and pg_restore for `crm-api backup` / `restore` (15, as the
# postgres:15 service of docker-compose.yml; they must be the server's major version or newer).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ca-certificates curl postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app crm \
    && mkdir -p /app/receipts && chown crm /app/receipts
COPY --from=build /usr/local/bin/crm-api /usr/local/bin/crm-worker /usr/local/bin/
COPY --from=build /src/frontend/dist /app/web
WORKDIR /app
USER crm
ENV BIND_ADDR=0.0.0.0:8080 LOG_FORMAT=json WEB_DIR=/app/web RECEIPTS_DIR=/app/receipts
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["crm-api"]
CMD ["serve"]
