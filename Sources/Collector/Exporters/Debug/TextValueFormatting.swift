#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Shared

// MARK: - AnyValue

extension DebugTextBuffer {
    /// Writes `Type(text)` as upstream's `valueToString` does: `Str(v)`, `Int(1)`, `Double(3)`, `Map({"a":1})`, `Empty()`.
    mutating func writeTypedValue(_ value: OTLPAnyValue) {
        write(Self.typeName(of: value))
        write("(")
        writeValueText(value)
        write(")")
    }

    /// pdata's `ValueType.String()`. A `string_value_strindex` (profiles only) is no pdata value type: `Empty`.
    static func typeName(of value: OTLPAnyValue) -> String {
        switch value.value {
        case .stringValue: "Str"
        case .boolValue: "Bool"
        case .intValue: "Int"
        case .doubleValue: "Double"
        case .kvlistValue: "Map"
        case .arrayValue: "Slice"
        case .bytesValue: "Bytes"
        case .stringValueStrindex, nil: "Empty"
        }
    }

    /// Writes pdata's `Value.AsString()`: strings raw, doubles as JavaScript numbers, maps and slices as compact JSON
    /// (map keys sorted, no HTML escaping), bytes as padded standard base64, empty as nothing.
    ///
    /// A non-finite double prints `NaN`, `Infinity` or `-Infinity` (reference §6.6). A map or slice holding one
    /// anywhere prints nothing, as upstream's, whose JSON encoder fails on it and drops the error.
    mutating func writeValueText(_ value: OTLPAnyValue) {
        switch value.value {
        case .stringValue(let string):
            write(string)
        case .boolValue(let bool):
            write(bool ? "true" : "false")
        case .intValue(let int):
            write(int)
        case .doubleValue(let double):
            if double.isNaN {
                write("NaN")
            } else if double.isInfinite {
                write(double < 0 ? "-Infinity" : "Infinity")
            } else {
                writeJSNumber(double)
            }
        case .kvlistValue(let map):
            writeJSONOrNothing { $0.writeJSONObject(map.values) }
        case .arrayValue(let array):
            writeJSONOrNothing { $0.writeJSONArray(array.values) }
        case .bytesValue(let data):
            write(data.base64EncodedString())
        case .stringValueStrindex, nil:
            break
        }
    }

    /// Writes `key=value` pairs (normal verbosity), each preceded by `leading` and separated by `separator`.
    mutating func writeKeyValues(_ attributes: [OTLPKeyValue], leading: String = "", separator: String) {
        for (index, attribute) in attributes.enumerated() {
            write(index == 0 ? leading : separator)
            write(attribute.key)
            write("=")
            writeValueText(attribute.value)
        }
    }
}

// MARK: - JSON (Go `encoding/json` of pdata's `AsRaw()`)

extension DebugTextBuffer {
    /// Runs `body`; if it reports failure, drops what it wrote.
    private mutating func writeJSONOrNothing(_ body: (inout DebugTextBuffer) -> Bool) {
        let mark = bytes.count
        if !body(&self) { truncate(toCount: mark) }
    }

    /// Writes one value as JSON; `false` when Go's encoder would fail (a non-finite double).
    private mutating func writeJSON(_ value: OTLPAnyValue) -> Bool {
        switch value.value {
        case .stringValue(let string):
            writeJSONString(string)
        case .boolValue(let bool):
            write(bool ? "true" : "false")
        case .intValue(let int):
            write(int)
        case .doubleValue(let double):
            guard double.isFinite else { return false }
            writeJSNumber(double)
        case .kvlistValue(let map):
            return writeJSONObject(map.values)
        case .arrayValue(let array):
            return writeJSONArray(array.values)
        case .bytesValue(let data):
            // `[]byte` marshals as a base64 string; an empty one is a nil slice after pdata's copy: `null`.
            if data.isEmpty {
                write("null")
            } else {
                write("\"")
                write(data.base64EncodedString())
                write("\"")
            }
        case .stringValueStrindex, nil:
            write("null")
        }
        return true
    }

    /// A Go `map[string]any`: keys sorted bytewise, and of duplicate keys the last one wins.
    private mutating func writeJSONObject(_ entries: [OTLPKeyValue]) -> Bool {
        let ascending = zip(entries, entries.dropFirst()).allSatisfy { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        if ascending {
            return writeJSONMembers(entries, order: entries.indices)
        }
        var order = Array(entries.indices)
        order.sort { lhs, rhs in
            let left = entries[lhs].key.utf8
            let right = entries[rhs].key.utf8
            return left.elementsEqual(right) ? lhs < rhs : left.lexicographicallyPrecedes(right)
        }
        // Of equal keys (now adjacent, in received order) keep the last.
        let kept = order.indices.lazy.filter { position in
            position + 1 == order.count
                || !entries[order[position + 1]].key.utf8.elementsEqual(entries[order[position]].key.utf8)
        }.map { order[$0] }
        return writeJSONMembers(entries, order: kept)
    }

    private mutating func writeJSONMembers(_ entries: [OTLPKeyValue], order: some Collection<Int>) -> Bool {
        write("{")
        for (position, index) in order.enumerated() {
            if position > 0 { write(",") }
            writeJSONString(entries[index].key)
            write(":")
            guard writeJSON(entries[index].value) else { return false }
        }
        write("}")
        return true
    }

    private mutating func writeJSONArray(_ elements: [OTLPAnyValue]) -> Bool {
        write("[")
        for (index, element) in elements.enumerated() {
            if index > 0 { write(",") }
            guard writeJSON(element) else { return false }
        }
        write("]")
        return true
    }

    /// A quoted JSON string escaped as Go's encoder does with HTML escaping off: `"` and `\`, the short forms
    /// `\b \f \n \r \t`, other controls as `\u00xx`, and U+2028 / U+2029 as `\u2028` / `\u2029`.
    mutating func writeJSONString(_ string: String) {
        write("\"")
        if !Self.needsJSONEscaping(string) {
            write(string)
        } else {
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": write("\\\"")
                case "\\": write("\\\\")
                case "\u{08}": write("\\b")
                case "\u{0C}": write("\\f")
                case "\n": write("\\n")
                case "\r": write("\\r")
                case "\t": write("\\t")
                case "\u{2028}": write("\\u2028")
                case "\u{2029}": write("\\u2029")
                case _ where scalar.value < 0x20:
                    write(scalar.value < 0x10 ? "\\u000" : "\\u00")
                    write(String(scalar.value, radix: 16))
                default:
                    write(scalar)
                }
            }
        }
        write("\"")
    }

    private static func needsJSONEscaping(_ string: String) -> Bool {
        var previous: (UInt8, UInt8) = (0, 0)
        for byte in string.utf8 {
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return true }
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
            if (byte == 0xA8 || byte == 0xA9), previous == (0xE2, 0x80) { return true }
            previous = (previous.1, byte)
        }
        return false
    }
}
