/// Parses one record object (`{"id": 1, "features": [1.0, 2.0]}`) straight from UTF-8 bytes: `id` is an
/// integer or a string, `features` an array of numbers; other keys are skipped. Hand-written because a
/// general JSON decoder costs more than the model does.
struct JSONRecordParser {
    private let bytes: ArraySlice<UInt8>
    private var index: Int

    /// Parses `bytes` as the record at `position`; problems become a bad record, never a throw.
    static func parse(_ bytes: ArraySlice<UInt8>, position: Int) -> InputRecord {
        var parser = JSONRecordParser(bytes: bytes, index: bytes.startIndex)
        do {
            return try parser.record(position: position)
        } catch {
            return .bad(position, id: error.id, error.reason)
        }
    }

    /// A parse problem; keeps the id when it was read before the problem.
    struct Problem: Error {
        var reason: String
        var id: RecordID?
    }

    // MARK: - Record

    private mutating func record(position: Int) throws(Problem) -> InputRecord {
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else { throw Problem(reason: "not a JSON object") }
        index += 1
        var id: RecordID?
        var features: [Double]?
        var first = true
        while true {
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                index += 1
                break
            }
            if !first {
                guard peek() == UInt8(ascii: ",") else { throw Problem(reason: "malformed JSON: expected , or }", id: id) }
                index += 1
                skipWhitespace()
            }
            first = false
            let key = try string(id: id)
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw Problem(reason: "malformed JSON: expected :", id: id) }
            index += 1
            skipWhitespace()
            switch key {
            case "id": id = try recordID()
            case "features": features = try numbers(id: id)
            default: try skipValue(id: id)
            }
        }
        skipWhitespace()
        guard index == bytes.endIndex else { throw Problem(reason: "malformed JSON: text after the object", id: id) }
        guard let id else { return .bad(position, "missing id") }
        guard let features else { return .bad(position, id: id, "missing features") }
        return InputRecord(position: position, id: id, features: features, problem: nil)
    }

    private mutating func recordID() throws(Problem) -> RecordID {
        switch peek() ?? 0 {
        case UInt8(ascii: "\""):
            let text = try string(id: nil)
            guard !text.isEmpty else { throw Problem(reason: "id is empty") }
            return .string(text)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let value = try number(id: nil)
            guard let integer = Int64(exactly: value) else { throw Problem(reason: "id is not an integer or a string") }
            return .int(integer)
        case UInt8(ascii: "n"):
            try skipValue(id: nil)
            throw Problem(reason: "missing id")
        default:
            throw Problem(reason: "id is not an integer or a string")
        }
    }

    private mutating func numbers(id: RecordID?) throws(Problem) -> [Double] {
        guard peek() == UInt8(ascii: "[") else { throw Problem(reason: "features is not an array", id: id) }
        index += 1
        var values: [Double] = []
        values.reserveCapacity(8)
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            return values
        }
        while true {
            skipWhitespace()
            guard let byte = peek(), byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                throw Problem(reason: "feature \(values.count) is not a number", id: id)
            }
            values.append(try number(id: id))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return values
            default: throw Problem(reason: "malformed JSON in features", id: id)
            }
        }
    }

    // MARK: - Tokens

    private func peek() -> UInt8? {
        index < bytes.endIndex ? bytes[index] : nil
    }

    private mutating func skipWhitespace() {
        while index < bytes.endIndex {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func number(id: RecordID?) throws(Problem) -> Double {
        let begin = index
        while index < bytes.endIndex, Self.isNumberByte(bytes[index]) { index += 1 }
        guard let value = Double(String(decoding: bytes[begin..<index], as: UTF8.self)), value.isFinite else {
            throw Problem(reason: "malformed number", id: id)
        }
        return value
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): true
        default: false
        }
    }

    private mutating func string(id: RecordID?) throws(Problem) -> String {
        guard peek() == UInt8(ascii: "\"") else { throw Problem(reason: "malformed JSON: expected a string", id: id) }
        index += 1
        let begin = index
        var escaped = false
        var hasEscapes = false
        while index < bytes.endIndex {
            let byte = bytes[index]
            index += 1
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
                hasEscapes = true
            } else if byte == UInt8(ascii: "\"") {
                let raw = bytes[begin..<(index - 1)]
                return hasEscapes ? Self.unescape(raw) : String(decoding: raw, as: UTF8.self)
            }
        }
        throw Problem(reason: "malformed JSON: unterminated string", id: id)
    }

    /// Skips any JSON value (objects and arrays by depth, strings with escapes, literals and numbers).
    private mutating func skipValue(id: RecordID?) throws(Problem) {
        skipWhitespace()
        guard let byte = peek() else { throw Problem(reason: "malformed JSON: missing value", id: id) }
        switch byte {
        case UInt8(ascii: "\""):
            _ = try string(id: id)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while let current = peek() {
                if current == UInt8(ascii: "\"") {
                    _ = try string(id: id)
                    continue
                }
                index += 1
                if current == UInt8(ascii: "{") || current == UInt8(ascii: "[") { depth += 1 }
                if current == UInt8(ascii: "}") || current == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { return }
                }
            }
            throw Problem(reason: "malformed JSON: unterminated value", id: id)
        default:
            let begin = index
            while let current = peek(), current != UInt8(ascii: ","), current != UInt8(ascii: "}"), current != UInt8(ascii: "]"),
                current != 0x20, current != 0x0A, current != 0x09, current != 0x0D
            {
                index += 1
            }
            guard index > begin else { throw Problem(reason: "malformed JSON", id: id) }
        }
    }

    /// Decodes `\n`, `\"`, `\\`, `\/`, `\t`, `\r`, `\b`, `\f` and `\uXXXX` (BMP) escapes.
    private static func unescape(_ raw: ArraySlice<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        let text = String(decoding: raw, as: UTF8.self).unicodeScalars
        var iterator = text.makeIterator()
        while let scalar = iterator.next() {
            guard scalar == "\\", let escape = iterator.next() else {
                scalars.append(scalar)
                continue
            }
            switch escape {
            case "n": scalars.append("\n")
            case "t": scalars.append("\t")
            case "r": scalars.append("\r")
            case "b": scalars.append("\u{08}")
            case "f": scalars.append("\u{0C}")
            case "u":
                var hex = ""
                for _ in 0..<4 { if let digit = iterator.next() { hex.unicodeScalars.append(digit) } }
                if let code = UInt32(hex, radix: 16), let decoded = Unicode.Scalar(code) { scalars.append(decoded) }
            default: scalars.append(escape)
            }
        }
        return String(scalars)
    }
}
