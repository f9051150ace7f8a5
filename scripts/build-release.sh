#!/usr/bin/env bash
# Builds the binaries the images ship, as the Dockerfiles' build line does: release, the Swift runtime linked
# statically, every module compiled with one section per function (so the collector's link can lay out the functions
# it runs side by side: Package.swift's collectorLinking), in .build-static. Prints each binary's path.
#
#   scripts/build-release.sh                 # collector and runner
#   scripts/build-release.sh collector
#
# Keep the flags equal to Dockerfiles/*.Dockerfile's RUN line (scripts/rehearse-images.sh runs that line).
set -euo pipefail
cd "$(dirname "$0")/.."
products=("$@")
[ ${#products[@]} -gt 0 ] || products=(collector runner)
for product in "${products[@]}"; do
  swift build -c release --static-swift-stdlib -Xswiftc -Xfrontend -Xswiftc -function-sections \
    --product "$product" --scratch-path .build-static >&2
done
for product in "${products[@]}"; do
  echo "$PWD/.build-static/release/$product"
done
