# syntax=docker/dockerfile:1
# ferredis: build, a small runtime image, and a benchmark image.
#   docker build -t ferredis . && docker run -p 6379:6379 ferredis
#   docker build --target benchmark -t ferredis-bench . && docker run --rm ferredis-bench
# The runtime stage is last because a build without --target produces the last stage.

# The dependencies, compiled against stub sources in a layer of their own so that a change under src/ does not
# recompile them. COPY keeps the files' modification times, which can be older than this stub build, so the stages
# below touch the crate roots before building for cargo to see that they changed.
FROM rust:1-bookworm AS deps
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY csrc csrc
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked --bin ferredis \
    && rm -rf src

FROM deps AS builder
COPY src src
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin ferredis

FROM deps AS benchmark
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server redis-tools python3 \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin ferredis --example ceiling
CMD ["bash", "bench/run.sh"]

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
