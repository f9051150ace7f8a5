#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The runner's whole configuration: job settings and telemetry, from the environment over the `.env` file.
struct RunnerConfiguration: Sendable {
    var job: JobConfiguration
    var telemetry: TelemetryConfiguration
    /// Warnings to log once logging is up (malformed `OTEL_*` values, ignored `.env` lines).
    var warnings: [String]
    /// The `.env` file that was read, if any.
    var envFile: String?

    /// Merges `.env` (from `ENV_FILE`, else `.env` in `workingDirectory`) under `environment`, in which
    /// empty values count as unset, then reads both parts.
    /// - Parameter readFile: returns a file's text or nil when it does not exist (injected by tests).
    static func load(
        environment: [String: String],
        workingDirectory: String = FileManager.default.currentDirectoryPath,
        readFile: (String) -> String? = RunnerConfiguration.readTextFile
    ) throws(ConfigurationError) -> RunnerConfiguration {
        var merged: [String: String] = [:]
        var warnings: [String] = []
        var envFile: String?
        let explicit = environment["ENV_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        let path = explicit ?? (workingDirectory.hasSuffix("/") ? workingDirectory : workingDirectory + "/") + ".env"
        if let text = readFile(path) {
            let parsed = DotEnv.parse(text)
            merged = parsed.values
            envFile = path
            warnings += parsed.ignored.map { "ignoring line \($0) of \(path): expected KEY=VALUE" }
        } else if let explicit {
            throw ConfigurationError(setting: "ENV_FILE", message: "cannot read \"\(explicit)\"")
        }
        for (key, value) in environment where !value.isEmpty {
            merged[key] = value
        }
        var reader = EnvironmentReader(merged)
        let job = try JobConfiguration(environment: reader)
        let telemetry = TelemetryConfiguration(environment: &reader)
        return RunnerConfiguration(job: job, telemetry: telemetry, warnings: warnings + reader.warnings, envFile: envFile)
    }

    /// The file's text; nil when it does not exist or cannot be read (`/dev/null` reads as empty).
    static func readTextFile(_ path: String) -> String? {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory,
            FileManager.default.isReadableFile(atPath: path)
        else { return nil }
        return FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
