import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered, ordered writes to a file descriptor (stdout for the JSON log): lines collect in a buffer that
/// goes out when it passes 64 KiB and on `flush()`, so a million log lines cost a few hundred syscalls.
final class OutputStreamWriter: Sendable {
    private let descriptor: Int32
    private let threshold: Int
    private let buffer: Mutex<ByteWriter>

    static let standardOutput = OutputStreamWriter(descriptor: 1)
    static let standardError = OutputStreamWriter(descriptor: 2, threshold: 0)

    init(descriptor: Int32, threshold: Int = 64 * 1024) {
        self.descriptor = descriptor
        self.threshold = threshold
        self.buffer = Mutex(ByteWriter(capacity: threshold + 4096))
    }

    /// Appends `bytes` (a whole line), writing the buffer out when it is full.
    func write(_ bytes: some Sequence<UInt8>) {
        buffer.withLock { buffer in
            let contiguous: Void? = bytes.withContiguousStorageIfAvailable { buffer.append(UnsafeRawBufferPointer($0)) }
            if contiguous == nil {
                for byte in bytes { buffer.append(byte) }
            }
            if buffer.count > threshold { Self.drain(&buffer, to: descriptor) }
        }
    }

    /// Lets `body` append a whole line to the buffer in place (no line array in between).
    func append(_ body: (inout ByteWriter) -> Void) {
        buffer.withLock { buffer in
            body(&buffer)
            if buffer.count > threshold { Self.drain(&buffer, to: descriptor) }
        }
    }

    func write(_ text: String) {
        write(text.utf8)
    }

    /// Writes everything buffered.
    func flush() {
        buffer.withLock { Self.drain(&$0, to: descriptor) }
    }

    private static func drain(_ buffer: inout ByteWriter, to descriptor: Int32) {
        var offset = 0
        buffer.withBytes { bytes in
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    break  // closed pipe or full disk: the log line is lost, the job goes on
                }
            }
        }
        buffer.removeAll()
    }
}
