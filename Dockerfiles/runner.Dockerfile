# syntax=docker/dockerfile:1
# The Swift batch inference job image: `ai-lab-3-1-paid:v1`.
# Build from the repository root:
#   docker build -f Dockerfiles/runner.Dockerfile -t ai-lab-3-1-paid:v1 .
#
# Base images: see Dockerfiles/collector.Dockerfile (same builder and runtime, same
# pinning; pass `--build-arg SWIFT_IMAGE=...@sha256:<digest>` to pin digests).
ARG SWIFT_IMAGE=swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
# Release build, Swift runtime linked statically, own scratch path, stripped; plus the
# libz.so.1 the binary needs (compress-nio links the system libz) and the runtime base lacks
# (cc-debian12 has no zlib1g; Debian 13's cc has): the builder's, Debian 12's zlib1g.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN swift build -c release --static-swift-stdlib -Xswiftc -Xfrontend -Xswiftc -function-sections \
    --product runner --scratch-path /src/.build-static \
    && install -D -m 0755 /src/.build-static/release/runner /out/usr/local/bin/runner \
    && strip --strip-unneeded /out/usr/local/bin/runner \
    && libz=$(ldd /out/usr/local/bin/runner | awk '$1 == "libz.so.1" { print $3 }') \
    && if [ -n "$libz" ]; then libz=$(readlink -f "$libz") && install -D -m 0644 "$libz" "/out$(dirname "$libz")/libz.so.1"; fi \
    && ls -lR /out \
    && ldd /out/usr/local/bin/runner

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="otel-batch-lab runner" \
      org.opencontainers.image.description="Swift batch inference job exporting traces, metrics and logs over OTLP/HTTP"
COPY --from=build /out/ /
# The runner reads an optional .env from its working directory; none is baked in.
WORKDIR /home/nonroot
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/runner"]
