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
#   CA certificates and tzdata, no shell, no package manager. `nonroot` is the variant whose
#   default user is 65532. The collector is linked statically, C libraries and zlib included
#   (Package.swift, collectorLinking: less resident memory, a faster start), so it needs no
#   library of the base; glibc's name-service modules there (same Debian release as the
#   builder) still serve host names such as `localhost` in an endpoint. scripts/rehearse-images.sh
#   runs this build stage's RUN line and this final stage on a base of the same packages.
ARG SWIFT_IMAGE=swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${SWIFT_IMAGE} AS build
# libyaml, the collector's YAML parser (Sources/Collector/Config/YAMLComposer.swift), linked statically.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libyaml-dev=0.2.5-1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the package needs (.dockerignore keeps .build* and the rest out).
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
# Release build, a static executable (Package.swift, collectorLinking), in its own scratch path
# (a static and a dynamic build sharing one .build fail to link), then stripped.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN swift build -c release --static-swift-stdlib -Xswiftc -Xfrontend -Xswiftc -function-sections \
    --product collector --scratch-path /src/.build-static \
    && install -D -m 0755 /src/.build-static/release/collector /out/usr/local/bin/collector \
    && strip --strip-unneeded /out/usr/local/bin/collector \
    && ls -lR /out \
    && if readelf -l /out/usr/local/bin/collector | grep -q INTERP; then echo "collector: not a static executable" >&2; exit 1; fi

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
