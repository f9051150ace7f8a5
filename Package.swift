// swift-tools-version:6.2
import PackageDescription

import class Foundation.FileManager

/// Upcoming features as in Hummingbird and swift-otel: explicit existentials, imports that do not leak.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// OTLP/gRPC (the collector's `protocols.grpc`, the runner's `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`) costs grpc-swift,
/// its HTTP/2 transport and, through it, swift-nio-ssl (BoringSSL), swift-certificates and swift-crypto: several
/// times the rest of the build on 2 cores. It is behind the `GRPC` trait, on by default; an HTTP-only build is
/// `swift build --disable-default-traits`. The generated service code lives in its own target, `OTLPGRPC`.
let grpc: TargetDependencyCondition? = .when(traits: ["GRPC"])

/// How the collector's release executable is linked on Linux (BENCHMARKS.md, "Start-up and resident memory"):
/// - statically, C libraries included (`-static-executable`; the image's base still has glibc's name-service modules
///   for host names): no dynamic loader, no shared libraries (libc, libstdc++, libm: 3.8 MiB resident in the dynamic
///   build), and, not position-independent, no relocations to apply at start (a PIE wrote 1.3 MiB of `.data.rel.ro`
///   pages and took ~5 ms more to its first answer);
/// - with the functions it executes laid out side by side (`sectionOrder`, written by bench/order_file.py: gold's
///   `--section-ordering-file`), so the pages it touches are a few MiB instead of being spread over 19 MB; every
///   module compiled with `-Xswiftc -Xfrontend -Xswiftc -function-sections` (scripts/build-release.sh, the
///   Dockerfiles' build line) gives each function a section, and the file's globs also gather the functions the
///   compiler gives no symbol (`.text..L*`: closures, object destroyers) and glibc's per-CPU string functions;
/// - with gold, Swift's default linker on Linux, as the runner: lld takes an undefined symbol from the first archive
///   on the line that defines it, and a specialization FoundationEssentials needs, also defined in libFoundation.a's
///   FileManager.swift.o, brought all of Foundation and ICU back (`-Xlinker --why-extract=FILE` shows the chain).
func collectorLinking(sectionOrder: String) -> [LinkerSetting] {
    [.unsafeFlags([
        "-static-executable", "-Xlinker", "--section-ordering-file=\(Context.packageDirectory)/\(sectionOrder)",
    ], .when(platforms: [.linux], configuration: .release))]
}

/// The runner's: no exported dynamic symbols, with the default linker (gold). lld resolves an undefined symbol from
/// whichever archive member defines it, wherever the archive is on the line: a generic specialization that
/// FoundationEssentials references and libFoundation.a's FileManager.swift.o also holds brought all of Foundation
/// and its 34 MB of ICU data back into the runner (`-Xlinker --why-extract=FILE` shows the chain;
/// scripts/rehearse-images.sh fails on it).
let runnerLinking: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux], configuration: .release))]

/// Micro-benchmarks of Shared's hot paths (ordo-one/benchmark): `bench/micro.sh`, or
/// `swift package --disable-sandbox benchmark run --target OTLPBenchmarks`. The target is part of the root
/// package because Shared's API is `package`; no product or test depends on it and it uses no build-tool plugin,
/// so `swift build --product collector|runner|otel-batch-labPackageTests` and `swift test` build nothing of the
/// benchmark package. Only the MallocInterposer trait (malloc counts): the benchmark package's other default
/// trait, RuntimeInterposer (ARC counts), needs swift-runtime-interposer, which is not available here. Both are
/// declared only where Benchmarks/ exists: the images' build context (.dockerignore) leaves it out, and with it
/// the benchmark package, which the image builds then need not resolve.
let hasBenchmarks = FileManager.default.fileExists(atPath: Context.packageDirectory + "/Benchmarks/OTLPBenchmarks")
let benchmarkDependencies: [Package.Dependency] = hasBenchmarks ? [
    .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
] : []
let benchmarkTargets: [Target] = hasBenchmarks ? [
    .executableTarget(
        name: "OTLPBenchmarks",
        dependencies: [
            "Shared",
            .product(name: "Benchmark", package: "benchmark"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ],
        path: "Benchmarks/OTLPBenchmarks",
        // No `plugins: [BenchmarkPlugin]`: its boilerplate is BenchmarkEntryPoint.swift. A build-tool plugin is built
        // for every build of the package, whatever the product; the command plugin only by `swift package benchmark`.
        swiftSettings: swiftSettings
    ),
] : []

let package = Package(
    name: "otel-batch-lab",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "collector", targets: ["Collector"]),
        .executable(name: "runner", targets: ["Runner"]),
    ],
    traits: [
        .trait(name: "GRPC", description: "OTLP/gRPC in the collector (receivers.otlp.protocols.grpc) and the runner (OTEL_EXPORTER_OTLP_PROTOCOL=grpc)"),
        .default(enabledTraits: ["GRPC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
    ] + benchmarkDependencies,
    targets: [
        .target(
            name: "Shared",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            exclude: ["OTLP/Proto"],
            swiftSettings: swiftSettings
        ),
        // libyaml, the YAML parser of the collector's configuration (Config/YAMLComposer.swift): Debian's libyaml-dev,
        // linked statically into the release collector. Yams, which wraps the same parser, imports all of Foundation.
        .systemLibrary(name: "CLibYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // glibc's malloc.h (malloc_trim, for memory_limiter), which Swift's Glibc module leaves out.
        .systemLibrary(name: "CGlibcMalloc"),
        // The OTLP services' gRPC stubs, generated once by scripts/generate-otlp.sh (protoc-gen-grpc-swift-2) and
        // committed. Only built when the GRPC trait is on (the targets below depend on it under that condition).
        .target(
            name: "OTLPGRPC",
            dependencies: [
                "Shared",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Collector",
            dependencies: [
                "Shared",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // HummingbirdCore's server without Hummingbird's `Application` (Component/HTTPServing.swift says why).
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "CLibYAML",
                "CGlibcMalloc",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .target(name: "OTLPGRPC", condition: grpc),
                .product(name: "GRPCCore", package: "grpc-swift-2", condition: grpc),
                // The transport core without TLS (Receivers/OTLP/PlaintextGRPCListener.swift says why).
                .product(name: "GRPCNIOTransportHTTP2TransportServices", package: "grpc-swift-nio-transport", condition: grpc),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf", condition: grpc),
            ],
            exclude: ["Linker"],
            swiftSettings: swiftSettings,
            linkerSettings: collectorLinking(sectionOrder: "Sources/Collector/Linker/collector.order")
        ),
        .executableTarget(
            name: "Runner",
            dependencies: [
                "Shared",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .target(name: "OTLPGRPC", condition: grpc),
                .product(name: "GRPCCore", package: "grpc-swift-2", condition: grpc),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport", condition: grpc),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf", condition: grpc),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: runnerLinking
        ),
        // libFuzzer target over the OTLP/HTTP decoding path (scripts/fuzz.sh). Its entry point is compiled only with
        // -DOTLP_FUZZ under the fuzzer sanitizer; the normal build makes it a replay tool for fuzz inputs.
        .executableTarget(
            name: "OTLPFuzz",
            dependencies: ["Shared", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/Fuzz/OTLPFuzz",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SharedTests",
            dependencies: [
                "Shared",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CollectorTests",
            dependencies: [
                "Collector",
                "Shared",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RunnerTests",
            dependencies: [
                "Runner",
                "Shared",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ] + benchmarkTargets
)
