/// JSON Lines: one record object per line; blank lines are skipped and not counted.
struct JSONLinesSource: RecordSource {
    private let reader: FileByteReader
    private var position = 0

    init(reader: FileByteReader) {
        self.reader = reader
    }

    mutating func next() throws(InputError) -> InputRecord? {
        while let line = try reader.nextLine() {
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { continue }
            defer { position += 1 }
            return JSONRecordParser.parse(line, position: position)
        }
        return nil
    }
}

/// A JSON array of record objects, read one element at a time.
struct JSONArraySource: RecordSource {
    private let reader: FileByteReader
    private var position = 0
    private var started = false
    private var finished = false
    private var element: [UInt8] = []

    init(reader: FileByteReader) {
        self.reader = reader
    }

    mutating func next() throws(InputError) -> InputRecord? {
        guard !finished else { return nil }
        if !started {
            started = true
            guard try reader.peekNonWhitespace() == UInt8(ascii: "["), try reader.nextByte() != nil else {
                throw InputError(path: reader.path, message: "not a JSON array")
            }
            if try reader.peekNonWhitespace() == UInt8(ascii: "]") {
                finished = true
                return nil
            }
        }
        // One element: bytes up to the `,` or `]` at depth 0, outside strings.
        element.removeAll(keepingCapacity: true)
        var depth = 0
        var inString = false
        var escaped = false
        while let byte = try reader.nextByte() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                // A closing bracket at depth 0 that is not the array's end stays in the element (a bad record).
                case UInt8(ascii: "}") where depth > 0, UInt8(ascii: "]") where depth > 0: depth -= 1
                case UInt8(ascii: "]"):
                    finished = true
                    return emit()
                case UInt8(ascii: ",") where depth == 0:
                    return emit()
                default: break
                }
            }
            element.append(byte)
        }
        throw InputError(path: reader.path, message: "the JSON array is not terminated")
    }

    private mutating func emit() -> InputRecord {
        defer { position += 1 }
        return JSONRecordParser.parse(element[...], position: position)
    }
}

/// CSV with a header: an `id` column (any position, case-insensitive) and feature columns; quoted fields
/// may contain commas. Blank lines are skipped.
struct CSVSource: RecordSource {
    private let reader: FileByteReader
    private let idColumn: Int
    private let columnCount: Int
    private var position = 0

    init(reader: FileByteReader) throws(InputError) {
        self.reader = reader
        guard let header = try reader.nextLine() else { throw InputError(path: reader.path, message: "the CSV file has no header") }
        let names = Self.fields(header).map { $0.trimmingWhitespace.lowercased() }
        guard let idColumn = names.firstIndex(of: "id") else {
            throw InputError(path: reader.path, message: "the CSV header has no id column")
        }
        self.idColumn = idColumn
        self.columnCount = names.count
    }

    mutating func next() throws(InputError) -> InputRecord? {
        while let line = try reader.nextLine() {
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { continue }
            defer { position += 1 }
            return record(Self.fields(line))
        }
        return nil
    }

    private func record(_ fields: [String]) -> InputRecord {
        let idText = fields.count > idColumn ? String(fields[idColumn].trimmingWhitespace) : ""
        let id: RecordID? = idText.isEmpty ? nil : (Int64(idText).map(RecordID.int) ?? .string(idText))
        guard let id else { return .bad(position, "missing id") }
        guard fields.count == columnCount else {
            return .bad(position, id: id, "expected \(columnCount) columns, found \(fields.count)")
        }
        var features: [Double] = []
        features.reserveCapacity(columnCount - 1)
        for (column, field) in fields.enumerated() where column != idColumn {
            guard let value = Double(field.trimmingWhitespace), value.isFinite else {
                return .bad(position, id: id, "feature \(features.count) is not a number")
            }
            features.append(value)
        }
        return InputRecord(position: position, id: id, features: features, problem: nil)
    }

    /// Splits a CSV line at commas outside double quotes; `""` inside quotes is a quote.
    static func fields(_ line: ArraySlice<UInt8>) -> [String] {
        var fields: [String] = []
        var current: [UInt8] = []
        var quoted = false
        var index = line.startIndex
        while index < line.endIndex {
            let byte = line[index]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < line.endIndex, line[index + 1] == UInt8(ascii: "\"") {
                        current.append(byte)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(byte)
                }
            } else if byte == UInt8(ascii: "\"") {
                quoted = true
            } else if byte == UInt8(ascii: ",") {
                fields.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            } else {
                current.append(byte)
            }
            index += 1
        }
        fields.append(String(decoding: current, as: UTF8.self))
        return fields
    }
}
