/// A record's identifier as the input wrote it: an integer or a string.
enum RecordID: Sendable, Hashable, CustomStringConvertible {
    case int(Int64)
    case string(String)

    var description: String {
        switch self {
        case .int(let value): String(value)
        case .string(let value): value
        }
    }
}

/// One record read from the input, or the reason it cannot be used (a failed record, not a failed job).
struct InputRecord: Sendable, Equatable {
    /// 0-based position in the input, counted over every record (good or bad); sharding selects on it.
    var position: Int
    var id: RecordID?
    var features: [Double]
    /// Why the record is bad (`missing id`, `feature 2 is not a number`); nil for a good record.
    var problem: String?

    static func bad(_ position: Int, id: RecordID? = nil, _ problem: String) -> InputRecord {
        InputRecord(position: position, id: id, features: [], problem: problem)
    }
}

/// The input cannot be read at all: the job exits 2.
struct InputError: Error, CustomStringConvertible, Equatable {
    var path: String
    var message: String

    var description: String { "cannot read input \(path): \(message)" }
}

/// A stream of records, read on demand so memory does not grow with the input.
protocol RecordSource {
    /// The next record in input order, or nil at the end.
    mutating func next() throws(InputError) -> InputRecord?
}

/// The formats a file can hold.
enum InputFormat: String, Sendable, CaseIterable {
    case jsonLines = "jsonl"
    case jsonArray = "json"
    case csv

    /// By extension (`.jsonl`, `.ndjson`, `.csv`), else by the first non-blank byte: `[` is a JSON
    /// array, `{` JSON Lines, anything else CSV.
    static func detect(path: String, firstByte: UInt8?) -> InputFormat {
        let lower = path.lowercased()
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") { return .jsonLines }
        if lower.hasSuffix(".csv") { return .csv }
        switch firstByte {
        case UInt8(ascii: "["): return .jsonArray
        case UInt8(ascii: "{"): return .jsonLines
        case nil: return lower.hasSuffix(".json") ? .jsonArray : .jsonLines
        default: return .csv
        }
    }
}
