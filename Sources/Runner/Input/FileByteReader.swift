// With the gRPC modules in the build, `struct stat` is found through CoreFoundation's copy of the C headers,
// whose members MemberImportVisibility then requires an import of.
#if canImport(CoreFoundation)
import CoreFoundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered reads of a file through POSIX `read(2)`, a chunk at a time: lines for JSON Lines and CSV,
/// single bytes for the JSON array scanner. Memory is one chunk plus the longest line.
final class FileByteReader {
    let path: String
    private let descriptor: Int32
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var atEnd = false
    private let chunkSize: Int

    init(path: String, chunkSize: Int = 256 * 1024) throws(InputError) {
        self.path = path
        self.chunkSize = chunkSize
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw InputError(path: path, message: Self.errnoText()) }
        var info = stat()
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(descriptor)
            throw InputError(path: path, message: "is a directory")
        }
        self.descriptor = descriptor
        self.buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    deinit {
        close(descriptor)
    }

    /// The next line without its `\n` (and a trailing `\r`), or nil at the end of the file.
    func nextLine() throws(InputError) -> ArraySlice<UInt8>? {
        var scanFrom = start
        while true {
            if let newline = buffer[scanFrom..<end].firstIndex(of: UInt8(ascii: "\n")) {
                var line = buffer[start..<newline]
                start = newline + 1
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                return line
            }
            scanFrom = end - start
            guard try fill() else {
                guard start < end else { return nil }
                var line = buffer[start..<end]
                start = end
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                return line
            }
            scanFrom += start
        }
    }

    /// The next byte, or nil at the end.
    func nextByte() throws(InputError) -> UInt8? {
        if start == end, try !fill() { return nil }
        defer { start += 1 }
        return buffer[start]
    }

    /// The next byte that is not JSON whitespace, without consuming it.
    func peekNonWhitespace() throws(InputError) -> UInt8? {
        while true {
            if start == end, try !fill() { return nil }
            let byte = buffer[start]
            guard byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D else { return byte }
            start += 1
        }
    }

    /// Moves unread bytes to the front (growing the buffer for long lines) and reads more.
    /// Returns false at the end of the file.
    private func fill() throws(InputError) -> Bool {
        guard !atEnd else { return false }
        if start > 0 {
            let count = end - start
            if count > 0 {
                buffer.withUnsafeMutableBufferPointer { pointer in
                    _ = memmove(pointer.baseAddress!, pointer.baseAddress! + start, count)
                }
            }
            start = 0
            end = count
        }
        if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
        while true {
            let count = buffer.withUnsafeMutableBufferPointer { pointer in
                read(descriptor, pointer.baseAddress! + end, pointer.count - end)
            }
            if count > 0 {
                end += count
                return true
            }
            if count == 0 {
                atEnd = true
                return false
            }
            if errno == EINTR { continue }
            throw InputError(path: path, message: Self.errnoText())
        }
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
