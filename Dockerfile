# The registry as a container image: the release binary on a small base image (distroless, with glibc and
# nothing else: no shell, no package manager), run as a non-root user, its data on a volume.
#
#   docker build -t schema-registry .
#   docker run -d -p 8081:8081 -v registry-data:/data schema-registry
#
# Every flag is also an environment variable (SCHEMA_REGISTRY_<FLAG>), so a deployment configures the image
# with -e: SCHEMA_REGISTRY_STORE=postgres://... for several instances over one PostgreSQL, SCHEMA_REGISTRY_AUTH_KEYS
# and SCHEMA_REGISTRY_TLS_CERT/_KEY with the files mounted read-only. See compose.yaml.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p registry-http --bin schema-registry \
    && install -D target/release/schema-registry /out/schema-registry \
    && install -d -o 65532 -g 65532 /out/data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/schema-registry /usr/local/bin/schema-registry
# An empty directory owned by the image's user: a fresh named volume mounted on it takes that owner.
COPY --from=build --chown=65532:65532 /out/data /data
ENV SCHEMA_REGISTRY_LISTEN=0.0.0.0:8081 \
    SCHEMA_REGISTRY_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8081
USER 65532:65532
# No curl in the image: the binary asks its own listener (`schema-registry health` reads SCHEMA_REGISTRY_LISTEN).
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 CMD ["schema-registry", "health"]
# `docker stop` sends SIGTERM: the server finishes what it is answering and closes the store cleanly.
STOPSIGNAL SIGTERM
ENTRYPOINT ["schema-registry"]
