import Benchmark

/// The entry point that the benchmark package's build-tool plugin (`BenchmarkPlugin`) would generate, written here so
/// that the target needs no build-tool plugin: SwiftPM builds a package's build-tool plugins (and their own
/// dependencies: swift-argument-parser, swift-system) for every build of the package, `--product collector` included.
@main
struct OTLPBenchmarksRunner: BenchmarkRunnerHooks {
    static func registerBenchmarks() {
        _ = benchmarks()
    }
}
