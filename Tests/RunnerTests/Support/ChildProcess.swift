import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The package's built executables, for end-to-end tests.
enum Binaries {
    /// The package root, from this file's path (Tests/RunnerTests/Support/…).
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let searchedDirectories = [".build/debug", ".build-runner/debug", ".build/release", ".build-runner-release/release"]

    /// `<NAME>_BINARY` when set, else the most recently built `name` under the package's build directories.
    static func find(_ name: String) -> String? {
        if let explicit = ProcessInfo.processInfo.environment["\(name.uppercased())_BINARY"], !explicit.isEmpty { return explicit }
        let candidates = searchedDirectories.map { "\(packageRoot)/\($0)/\(name)" }.filter { FileManager.default.isExecutableFile(atPath: $0) }
        return candidates.max { modified($0) < modified($1) }
    }

    /// The binary, or a recorded failure that says how to build it (the test must not pass without it).
    static func require(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try #require(
            find(name),
            "\(name) binary missing: run `swift build --product \(name)` (searched \(searchedDirectories.joined(separator: ", ")) under \(packageRoot), or set \(name.uppercased())_BINARY)",
            sourceLocation: sourceLocation)
    }

    private static func modified(_ path: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
    }
}

/// A child process with stdout and stderr in files, stopped by PID.
final class ChildProcess {
    let process = Process()
    let stdoutPath: String
    let stderrPath: String

    init(executable: String, arguments: [String] = [], environment: [String: String], directory: String, name: String) throws {
        stdoutPath = "\(directory)/\(name).stdout"
        stderrPath = "\(directory)/\(name).stderr"
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// The exit status once the process ended, or nil after `timeout` (the process is then killed).
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                kill(pid, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Polls until `condition` holds or `timeout` passes.
    static func eventually(timeout: Duration, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }
}

/// The real collector on 127.0.0.1, with the debug exporter printing to stdout; OTLP/HTTP, and OTLP/gRPC too
/// when `grpcPort` is given (0 = a free port).
final class CollectorProcess {
    let child: ChildProcess
    let port: Int
    let grpcPort: Int?

    static func start(
        port: Int = 0, grpcPort: Int? = nil, verbosity: String = "detailed", directory: String, name: String = "collector"
    ) async throws -> CollectorProcess {
        let binary = try Binaries.require("collector")
        let grpc = grpcPort.map { "\n      grpc:\n        endpoint: 127.0.0.1:\($0)" } ?? ""
        let config = """
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:\(port)\(grpc)
            processors:
              batch:
            exporters:
              debug:
                verbosity: \(verbosity)
            service:
              # No own-metrics server: its default port (localhost:8888) would clash between parallel tests.
              telemetry: {metrics: {level: none}}
              pipelines:
                traces: {receivers: [otlp], processors: [batch], exporters: [debug]}
                metrics: {receivers: [otlp], processors: [batch], exporters: [debug]}
                logs: {receivers: [otlp], processors: [batch], exporters: [debug]}
            """
        let configPath = "\(directory)/\(name).yaml"
        try Data(config.utf8).write(to: URL(fileURLWithPath: configPath))
        let child = try ChildProcess(
            executable: binary, arguments: ["--config", configPath], environment: ProcessInfo.processInfo.environment, directory: directory, name: name)
        var bound: Int?
        var boundGRPC: Int?
        _ = await ChildProcess.eventually(timeout: .seconds(15)) {
            bound = Self.boundPort(child.stderr)
            boundGRPC = Self.boundPort(child.stderr, server: "Starting GRPC server")
            return (bound != nil && (grpcPort == nil || boundGRPC != nil)) || !child.process.isRunning
        }
        guard let bound, grpcPort == nil || boundGRPC != nil else {
            _ = await child.waitForExit(timeout: .seconds(1))
            throw CollectorError(message: "the collector did not start: \(child.stderr.suffix(2000))")
        }
        return CollectorProcess(child: child, port: bound, grpcPort: boundGRPC)
    }

    private init(child: ChildProcess, port: Int, grpcPort: Int?) {
        self.child = child
        self.port = port
        self.grpcPort = grpcPort
    }

    var endpoint: String { "http://127.0.0.1:\(port)" }
    /// The OTLP/gRPC endpoint, as `OTEL_EXPORTER_OTLP_ENDPOINT` writes it.
    var grpcEndpoint: String { "http://127.0.0.1:\(grpcPort ?? 0)" }
    var output: String { child.stdout }

    /// SIGTERM (the collector drains) and wait.
    func stop() async -> Int32? {
        child.send(SIGTERM)
        return await child.waitForExit(timeout: .seconds(20))
    }

    /// Spans the debug exporter reported (`TracesExporter {… "spans": N}` lines).
    static func spanCount(in output: String) -> Int {
        output.split(separator: "\n").filter { $0.contains("TracesExporter") }.reduce(0) { total, line in
            guard let range = line.range(of: #""spans": "#) else { return total }
            return total + (Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0)
        }
    }

    /// `…Starting HTTP server\t{"endpoint": "127.0.0.1:34143", …}` → 34143.
    static func boundPort(_ stderr: String, server: String = "Starting HTTP server") -> Int? {
        for line in stderr.split(separator: "\n") where line.contains(server) {
            guard let range = line.range(of: #""endpoint": "127.0.0.1:"#) else { continue }
            if let port = Int(line[range.upperBound...].prefix { $0.isNumber }), port > 0 { return port }
        }
        return nil
    }

    struct CollectorError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
