# syntax=docker/dockerfile:1
# The Swift OpenTelemetry collector image: `ai-lab-3-1-paid-collector:v1`.
# Build from the repository root:
#   docker build -f Dockerfiles/collector.Dockerfile -t ai-lab-3-1-paid-collector:v1 .
#
# Base images. Neither can be checked against a registry from the machines this project
# is built on, so they are pinned by version tag; pin the digests once you pull them:
#   docker build --build-arg SWIFT_IMAGE=swift:6.3.1-bookworm@sha256:<digest> ...
# - Builder: the toolchain CI uses (Swift 6.3.1) on Debian 12 (bookworm).
# - Runtime: distroless `cc` for Debian 12: glibc, libgcc_s, libstdc++, libgomp, libssl3,
#   CA certificates and tzdata, no shell, no package manager. The same Debian release as the
#   builder, so the binary's glibc/libstdc++ symbol versions are all there. `nonroot` is
#   the variant whose default user is 65532. It has no zlib (Debian 13's cc has), which
#   the binary needs (compress-nio links the system libz): the build stage copies the
#   builder's libz.so.1 (Debian 12's zlib1g) into /out, and the runtime stage takes /out
#   whole. scripts/rehearse-images.sh runs this build stage's RUN line and this final
#   stage on a base of the same packages, and fails on any other library the binary needs.
ARG SWIFT_IMAGE=swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
# Only what the package needs (.dockerignore keeps .build* and the rest out).
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
# Release build with the Swift runtime linked statically, in its own scratch path (a
# static and a dynamic build sharing one .build fail to link), then stripped; plus the
# libz.so.1 the runtime base lacks.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN swift build -c release --static-swift-stdlib -Xswiftc -Xfrontend -Xswiftc -function-sections \
    --product collector --scratch-path /src/.build-static \
    && install -D -m 0755 /src/.build-static/release/collector /out/usr/local/bin/collector \
    && strip --strip-unneeded /out/usr/local/bin/collector \
    && libz=$(ldd /out/usr/local/bin/collector | awk '$1 == "libz.so.1" { print $3 }') \
    && if [ -n "$libz" ]; then libz=$(readlink -f "$libz") && install -D -m 0644 "$libz" "/out$(dirname "$libz")/libz.so.1"; fi \
    && ls -lR /out \
    && ldd /out/usr/local/bin/collector

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="otel-batch-lab collector" \
      org.opencontainers.image.description="Swift OpenTelemetry collector (OTLP/gRPC and OTLP/HTTP in, debug exporter on stdout)"
COPY --from=build /out/ /
# A default configuration, so the image runs on its own; in Kubernetes the ConfigMap
# otel-collector-config is mounted over /etc/otelcol.
COPY collector.yaml /etc/otelcol/config.yaml
USER 65532:65532
# OTLP/gRPC, OTLP/HTTP, the health_check extension, the collector's own metrics (/metrics), as collector.yaml configures them.
EXPOSE 4317 4318 13133 8888
ENTRYPOINT ["/usr/local/bin/collector"]
CMD ["--config", "/etc/otelcol/config.yaml"]
