#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Predictions as JSON Lines, written to `<path>.tmp-<pid>` next to the target and renamed into place by
/// `commit()` only: a failed or killed job never leaves a half file at `path`.
final class OutputWriter {
    let path: String
    let temporaryPath: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []

    init(path: String) throws(ConfigurationError) {
        self.path = path
        self.temporaryPath = "\(path).tmp-\(getpid())"
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ConfigurationError(setting: "OUTPUT_PATH", message: "cannot create \"\(temporaryPath)\": \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        buffer.reserveCapacity(128 * 1024)
    }

    deinit {
        close(descriptor)
    }

    /// `{"id": 1, "prediction": 6.0, "latency_ms": 0.001, "cost_usd": 2.8e-10, "trace_id": "…"}`.
    func write(id: RecordID, prediction: Double, latencyMs: Double, costUSD: Double?, traceID: String) {
        buffer.append(contentsOf: #"{"id": "#.utf8)
        switch id {
        case .int(let value): buffer.append(contentsOf: String(value).utf8)
        case .string(let value): JSONLogFormatter.appendString(value, to: &buffer)
        }
        buffer.append(contentsOf: #", "prediction": "#.utf8)
        buffer.append(contentsOf: JSONNumber(prediction).description.utf8)
        buffer.append(contentsOf: #", "latency_ms": "#.utf8)
        buffer.append(contentsOf: JSONNumber(latencyMs).description.utf8)
        if let costUSD {
            buffer.append(contentsOf: #", "cost_usd": "#.utf8)
            buffer.append(contentsOf: JSONNumber(costUSD).description.utf8)
        }
        buffer.append(contentsOf: #", "trace_id": ""#.utf8)
        buffer.append(contentsOf: traceID.utf8)
        buffer.append(contentsOf: "\"}\n".utf8)
        if buffer.count >= 64 * 1024 { flush() }
    }

    /// Flushes, syncs and renames the file into place.
    func commit() throws(ConfigurationError) {
        flush()
        fsync(descriptor)
        guard rename(temporaryPath, path) == 0 else {
            throw ConfigurationError(setting: "OUTPUT_PATH", message: "cannot rename to \"\(path)\": \(String(cString: strerror(errno)))")
        }
    }

    /// Removes the temporary file.
    func discard() {
        unlink(temporaryPath)
    }

    private func flush() {
        var offset = 0
        buffer.withUnsafeBytes { bytes in
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { break }
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
