# syntax=docker/dockerfile:1
# ferredis: build, a small runtime image, and a benchmark image.
#   docker build -t ferredis . && docker run -p 6379:6379 ferredis
#   docker build --target benchmark -t ferredis-bench . && docker run --rm ferredis-bench

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY csrc csrc
COPY src src
COPY examples examples
RUN cargo build --release --locked --bin ferredis

FROM debian:bookworm-slim AS runtime
RUN useradd --system --uid 999 --user-group --home-dir /data ferredis \
    && mkdir -p /data && chown ferredis:ferredis /data
COPY --from=builder /src/target/release/ferredis /usr/local/bin/ferredis
USER ferredis
WORKDIR /data
EXPOSE 6379
# Inside a container every client arrives from a non-loopback address, so listen on all interfaces with protected
# mode off, as the official redis image does; publish the port only where it should be reachable, or set
# --requirepass.
ENTRYPOINT ["ferredis", "--bind", "0.0.0.0", "--protected-mode", "no"]

FROM rust:1-bookworm AS benchmark
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server redis-tools python3 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin ferredis --example ceiling
CMD ["bash", "bench/run.sh"]
