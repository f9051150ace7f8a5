#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Synchronization

/// A swift-log handler writing the collector's own log lines to stderr in upstream's console layout
/// (`<time>\t<level>\t<message>\t{"key": "value"}`), at `service.telemetry.logs.level`.
struct ConsoleLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    private let output: LogOutput

    init(level: Logger.Level, output: LogOutput = .standardError) {
        self.logLevel = level
        self.output = output
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [(String, ConsoleLogFormat.Value)] = []
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
            fields.append((key, Self.value(value)))
        }
        output.write(ConsoleLogFormat.line(level: Self.levelName(event.level), message: "\(event.message)", fields: fields))
    }

    private static func value(_ value: Logger.MetadataValue) -> ConsoleLogFormat.Value {
        if case .stringConvertible(let convertible) = value {
            if let int = convertible as? Int { return .int(int) }
            if let double = convertible as? Double { return .double(double) }
            if let bool = convertible as? Bool { return .bool(bool) }
        }
        return .string(value.description)
    }

    /// zap's names: debug, info, warn, error.
    static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warn"
        case .error, .critical: "error"
        }
    }
}

/// A byte sink shared by everything that writes one stream (stdout, stderr or a file). Each entry
/// goes out in one `write(2)` loop under a lock, so concurrent writers never interleave inside an
/// entry and nothing sits in a user-space buffer when the process is killed.
final class LogOutput: Sendable {
    private enum Sink {
        case descriptor(Int32)
        /// Kept in memory (tests read it back with `captured`).
        case memory(String)
    }

    private let sink: Mutex<Sink>
    let name: String

    static let standardOutput = LogOutput(sink: .descriptor(STDOUT_FILENO), name: "stdout")
    static let standardError = LogOutput(sink: .descriptor(STDERR_FILENO), name: "stderr")

    private init(sink: Sink, name: String) {
        self.sink = Mutex(sink)
        self.name = name
    }

    /// An in-memory output, for tests.
    static func memory() -> LogOutput { LogOutput(sink: .memory(""), name: "memory") }

    /// What an in-memory output holds (empty for the others).
    var captured: String {
        sink.withLock { if case .memory(let text) = $0 { text } else { "" } }
    }

    /// `stdout`, `stderr`, or a file opened for appending (created when missing).
    static func open(_ path: String) throws -> LogOutput {
        switch path {
        case "stdout": return .standardOutput
        case "stderr": return .standardError
        default:
            let fd = systemOpen(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw LogOutputError(description: "cannot open \(path): \(String(cString: strerror(errno)))")
            }
            return LogOutput(sink: .descriptor(fd), name: path)
        }
    }

    func write(_ text: String) {
        var text = text
        sink.withLock { sink in
            switch sink {
            case .memory(let existing):
                sink = .memory(existing + text)
            case .descriptor(let fd):
                text.withUTF8 { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let written = systemWrite(fd, bytes.baseAddress! + offset, bytes.count - offset)
                        if written < 0 {
                            if errno == EINTR { continue }
                            return  // a closed pipe or full disk: nothing sensible left to do with this entry
                        }
                        offset += written
                    }
                }
            }
        }
    }
}

/// A log or debug output path that cannot be opened.
struct LogOutputError: Error, CustomStringConvertible {
    let description: String
}

// The system calls under their own names: `LogOutput` has an `open` and a `write` of its own.
#if canImport(Glibc)
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { Glibc.open(path, flags, mode) }
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { Glibc.write(fd, bytes, count) }
#elseif canImport(Darwin)
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { Darwin.open(path, flags, mode) }
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { Darwin.write(fd, bytes, count) }
#endif
