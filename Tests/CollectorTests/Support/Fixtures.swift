import Foundation
import Testing

/// The shared OTLP fixtures (`shared/fixtures/otlp`, see its README): request bodies and the debug exporter's
/// expected text, one folder per signal.
///
/// Found at `$OTLP_FIXTURES_DIR` when that is set, else at `<package root>/../shared/fixtures/otlp`.
enum Fixtures {
    /// The fixture directory, or `nil` when it does not exist (see `missingMessage`).
    static var directory: URL? {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: expectedDirectory.path, isDirectory: &isDirectory)
        return exists && isDirectory.boolValue ? expectedDirectory : nil
    }

    /// Where the fixtures are looked for.
    static var expectedDirectory: URL {
        if let override = ProcessInfo.processInfo.environment["OTLP_FIXTURES_DIR"], !override.isEmpty {
            return URL(fileURLWithPath: override, isDirectory: true)
        }
        // This file is <package root>/Tests/CollectorTests/Support/Fixtures.swift (symlinks resolved).
        let packageRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/otlp", isDirectory: true)
    }

    /// Says that the fixtures are missing and where they were looked for; for skip comments and issues.
    static var missingMessage: String {
        "OTLP fixtures not found at \(expectedDirectory.path) (set OTLP_FIXTURES_DIR to their folder)"
    }

    /// The fixture names in `signal`'s folder (`traces`, `metrics`, `logs`) that have a file ending in `suffix`,
    /// sorted. A name is the file name without the suffix and never contains a dot, so `.out` lists the detailed
    /// expectations and not the `.normal.out` ones. Empty when the fixtures are missing.
    static func names(signal: String, suffix: String) -> [String] {
        guard let directory,
            let files = try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent(signal).path)
        else { return [] }
        return files.compactMap { file -> String? in
            guard file.hasSuffix(suffix) else { return nil }
            let name = String(file.dropLast(suffix.count))
            return name.isEmpty || name.contains(".") ? nil : name
        }
        .sorted()
    }

    /// The bytes of a fixture file, e.g. `data("traces/two_spans.pb")`.
    static func data(_ relativePath: String) throws -> Data {
        guard let directory else { throw MissingFixtures(message: missingMessage) }
        return try Data(contentsOf: directory.appendingPathComponent(relativePath))
    }

    /// The text of a fixture file (UTF-8), e.g. `text("traces/two_spans.out")`.
    static func text(_ relativePath: String) throws -> String {
        String(decoding: try data(relativePath), as: UTF8.self)
    }

    /// Thrown when a fixture is read while the fixture directory is missing.
    struct MissingFixtures: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs a test only when the shared fixtures exist; else skips it with a comment that names the missing path.
    static var fixtures: Self {
        .enabled(if: Fixtures.directory != nil, Comment(rawValue: Fixtures.missingMessage))
    }
}
