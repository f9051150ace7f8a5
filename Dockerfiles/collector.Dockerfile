# syntax=docker/dockerfile:1
# The Swift OpenTelemetry collector image: `ai-lab-3-1-paid-collector:v1`.
# Build from the repository root:
#   docker build -f Dockerfiles/collector.Dockerfile -t ai-lab-3-1-paid-collector:v1 .
#
# Base images. Neither can be checked against a registry from the machines this project
# is built on, so they are pinned by version tag; pin the digests once you pull them:
#   docker build --build-arg SWIFT_IMAGE=swift:6.3.1-bookworm@sha256:<digest> ...
# - Builder: the toolchain CI uses (Swift 6.3.1) on Debian 12 (bookworm).
# - Runtime: distroless `cc` for Debian 12: glibc, libgcc_s, libstdc++, zlib, CA
#   certificates and tzdata, no shell, no package manager. The same Debian release as the
#   builder, so the binary's glibc/libstdc++ symbol versions are all there. `nonroot` is
#   the variant whose default user is 65532.
ARG SWIFT_IMAGE=swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
# Only what the package needs (.dockerignore keeps .build* and the rest out).
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
# Release build with the Swift runtime linked statically, in its own scratch path (a
# static and a dynamic build sharing one .build fail to link), then stripped.
RUN swift build -c release --static-swift-stdlib --product collector --scratch-path /src/.build-static \
    && install -D -m 0755 /src/.build-static/release/collector /out/usr/local/bin/collector \
    && strip --strip-unneeded /out/usr/local/bin/collector \
    && ls -l /out/usr/local/bin/collector \
    && ldd /out/usr/local/bin/collector

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="otel-batch-lab collector" \
      org.opencontainers.image.description="Swift OpenTelemetry collector (OTLP/gRPC and OTLP/HTTP in, debug exporter on stdout)"
COPY --from=build /out/usr/local/bin/collector /usr/local/bin/collector
# A default configuration, so the image runs on its own; in Kubernetes the ConfigMap
# otel-collector-config is mounted over /etc/otelcol.
COPY collector.yaml /etc/otelcol/config.yaml
USER 65532:65532
# OTLP/gRPC and OTLP/HTTP. (health_check 13133 and the collector's own metrics 8888 once configured.)
EXPOSE 4317 4318
ENTRYPOINT ["/usr/local/bin/collector"]
CMD ["--config", "/etc/otelcol/config.yaml"]
