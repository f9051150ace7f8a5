#!/usr/bin/env bash
# Regenerates Sources/Shared/OTLP/Generated (the messages) and Sources/OTLPGRPC/Generated (the gRPC
# stubs of the three collector services) from the opentelemetry-proto files.
#
#   scripts/generate-otlp.sh [PROTO_DIR]
#
# PROTO_DIR defaults to $OTLP_PROTO_DIR, else ../shared/proto (opentelemetry-proto v1.11.0).
# Needs protoc (Debian: protobuf-compiler); protoc-gen-swift and protoc-gen-grpc-swift-2 are built from
# the swift-protobuf and grpc-swift-protobuf versions this package depends on, in .build-protoc-gen-swift/
# ($PROTOC_GEN_SWIFT / $PROTOC_GEN_GRPC_SWIFT name prebuilt plugins instead). The output is committed:
# no build runs a protoc plugin.
set -euo pipefail
cd "$(dirname "$0")/.."
proto_dir=${1:-${OTLP_PROTO_DIR:-../shared/proto}}
[ -d "$proto_dir/opentelemetry/proto" ] || { echo "error: no opentelemetry protos under $proto_dir" >&2; exit 2; }
command -v protoc >/dev/null || { echo "error: protoc not found (apt-get install protobuf-compiler)" >&2; exit 2; }

plugin=${PROTOC_GEN_SWIFT:-}
if [ -z "$plugin" ]; then
  swift build -c release --scratch-path .build-protoc-gen-swift --product protoc-gen-swift >&2
  plugin=.build-protoc-gen-swift/release/protoc-gen-swift
fi
grpc_plugin=${PROTOC_GEN_GRPC_SWIFT:-}
if [ -z "$grpc_plugin" ]; then
  swift build -c release --scratch-path .build-protoc-gen-swift --product protoc-gen-grpc-swift-2 >&2
  grpc_plugin=.build-protoc-gen-swift/release/protoc-gen-grpc-swift-2
fi

out=Sources/Shared/OTLP/Generated
rm -f "$out"/*.pb.swift
mkdir -p "$out"
protos=(
  opentelemetry/proto/common/v1/common.proto
  opentelemetry/proto/resource/v1/resource.proto
  opentelemetry/proto/trace/v1/trace.proto
  opentelemetry/proto/metrics/v1/metrics.proto
  opentelemetry/proto/logs/v1/logs.proto
  opentelemetry/proto/collector/trace/v1/trace_service.proto
  opentelemetry/proto/collector/metrics/v1/metrics_service.proto
  opentelemetry/proto/collector/logs/v1/logs_service.proto
)
# Visibility=Package: only this package's targets use the model (STYLE.md §7).
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Package --swift_opt=UseAccessLevelOnImports=true --swift_opt=FileNaming=PathToUnderscores \
  --swift_out="$out" -I "$proto_dir" "${protos[@]}"
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Package --swift_opt=UseAccessLevelOnImports=true --swift_opt=FileNaming=PathToUnderscores \
  --swift_out="$out" -I Sources/Shared/OTLP/Proto google/rpc/status.proto
# The gRPC stubs (server and client) of the three Export services, in target OTLPGRPC; the messages they
# carry come from module Shared (generated above), hence the extra import.
grpc_out=Sources/OTLPGRPC/Generated
rm -f "$grpc_out"/*.grpc.swift
mkdir -p "$grpc_out"
services=(
  opentelemetry/proto/collector/trace/v1/trace_service.proto
  opentelemetry/proto/collector/metrics/v1/metrics_service.proto
  opentelemetry/proto/collector/logs/v1/logs_service.proto
)
protoc --plugin=protoc-gen-grpc-swift="$grpc_plugin" \
  --grpc-swift_opt=Visibility=Package --grpc-swift_opt=UseAccessLevelOnImports=true \
  --grpc-swift_opt=FileNaming=PathToUnderscores --grpc-swift_opt=Server=true --grpc-swift_opt=Client=true \
  --grpc-swift_opt=ExtraModuleImports=Shared \
  --grpc-swift_out="$grpc_out" -I "$proto_dir" "${services[@]}"
echo "generated $(ls "$grpc_out" | wc -l) gRPC files" >&2
echo "generated $(ls "$out" | wc -l) files from $(cat "$proto_dir/VERSION" 2>/dev/null || echo "$proto_dir")" >&2
