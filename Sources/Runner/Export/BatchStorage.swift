/// Items a batch queue hands its exporter at once.
protocol ExportBatch {
    /// How many items the batch holds.
    var count: Int { get }
}

/// How a batch queue keeps its items until they are exported: an array of them, or `EncodedItems`.
protocol BatchStorage {
    associatedtype Batch: ExportBatch
    /// Items held.
    var count: Int { get }
    /// Takes out the oldest items, at most `maxCount` of them (at least one: the queue asks only when it holds some).
    mutating func takeBatch(maxCount: Int) -> Batch
    mutating func removeAll()
    /// Takes back the memory of a batch whose export returned, for later items (optional).
    mutating func recycle(_ batch: Batch)
}

extension BatchStorage {
    mutating func recycle(_ batch: Batch) {}
}

extension Array: ExportBatch {}

extension Array: BatchStorage {
    mutating func removeAll() {
        removeAll(keepingCapacity: false)
    }

    mutating func takeBatch(maxCount: Int) -> [Element] {
        let taken = Array(prefix(maxCount))
        removeFirst(taken.count)
        return taken
    }
}

/// Protobuf messages (spans, log records) written back to back as the repeated field 2 of their scope message
/// (`ScopeSpans.spans`, `ScopeLogs.log_records`), in chunks of at most `chunkCapacity` items: a batch is one chunk,
/// and its request is a header around the chunk's bytes. No array or allocation per item; a chunk is reused once its
/// export returned (`recycle`: exporters copy what they send and keep no batch).
struct EncodedItems: BatchStorage, Sendable {
    /// A run of encoded items. Sendable: it belongs to the storage until taken, then to one batch.
    final class Chunk: @unchecked Sendable {
        var writer: ProtobufWriter
        var count = 0

        init(byteCapacity: Int) {
            writer = ProtobufWriter(capacity: byteCapacity)
        }
    }

    /// Items per chunk: the queue's export batch size.
    let chunkCapacity: Int
    /// A new chunk's memory, in bytes.
    private let chunkBytes: Int
    /// The oldest first; only the last one is written to.
    private var chunks: [Chunk] = []
    private var spare: Chunk?
    private(set) var count = 0

    /// `chunkBytes` defaults to about 300 bytes per item (a span or log record of the job), up to 512 items; a chunk
    /// grows if its items are larger.
    init(chunkCapacity: Int, chunkBytes: Int? = nil) {
        precondition(chunkCapacity > 0, "chunk capacity must be positive")
        self.chunkCapacity = chunkCapacity
        self.chunkBytes = chunkBytes ?? min(chunkCapacity, 512) * 320
    }

    /// Appends one item: the message `body` writes.
    mutating func append(_ body: (inout ProtobufWriter) -> Void) {
        if chunks.isEmpty || chunks[chunks.count - 1].count >= chunkCapacity { chunks.append(newChunk()) }
        let chunk = chunks[chunks.count - 1]
        chunk.writer.message(2, body)
        chunk.count += 1
        count += 1
    }

    private mutating func newChunk() -> Chunk {
        if let spare {
            self.spare = nil
            return spare
        }
        return Chunk(byteCapacity: chunkBytes)
    }

    /// The oldest chunk: `maxCount` is the queue's export batch size, the chunks' capacity.
    mutating func takeBatch(maxCount: Int) -> EncodedBatch {
        precondition(maxCount >= chunkCapacity, "a batch is a whole chunk")
        let chunk = chunks.removeFirst()
        count -= chunk.count
        return EncodedBatch(chunk: chunk)
    }

    mutating func removeAll() {
        chunks.removeAll()
        count = 0
    }

    mutating func recycle(_ batch: EncodedBatch) {
        guard spare == nil else { return }
        batch.chunk.writer.removeAll()
        batch.chunk.count = 0
        spare = batch.chunk
    }
}

/// A chunk of `EncodedItems`, taken out to be exported.
struct EncodedBatch: ExportBatch, Sendable {
    fileprivate var chunk: EncodedItems.Chunk

    var count: Int { chunk.count }

    /// The items' bytes: each one's field tag and length, then its message.
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try chunk.writer.withBytes(body)
    }

    /// The items' bytes, as one array (for the tests).
    var bytes: [UInt8] { chunk.writer.bytes }
}
