import Shared

/// The lab's `.env` file format: `KEY=VALUE` lines, `#` comment lines, inline comments after
/// whitespace (`COST_PER_CPU_HOUR=0.04        # $0.04 per CPU-hour`), optional `export ` prefixes
/// and single- or double-quoted values (where `#` is literal).
enum DotEnv {
    /// Parses the file's text into key/value pairs; later keys win. Malformed lines are returned in
    /// `ignored` with their 1-based line number so the caller can warn about them.
    static func parse(_ text: String) -> (values: [String: String], ignored: [Int]) {
        var values: [String: String] = [:]
        var ignored: [Int] = []
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingWhitespace
            if line.isEmpty || line.first == "#" { continue }
            if line.hasPrefix("export ") { line = line.dropFirst("export ".count).trimmingWhitespace }
            guard let equals = line.firstIndex(of: "=") else {
                ignored.append(offset + 1)
                continue
            }
            let key = line[..<equals].trimmingWhitespace
            guard isValidKey(key) else {
                ignored.append(offset + 1)
                continue
            }
            values[String(key)] = value(line[line.index(after: equals)...].trimmingWhitespace)
        }
        return (values, ignored)
    }

    /// A quoted value up to its closing quote (`\"`, `\n` escapes in double quotes); otherwise the text
    /// before an inline comment (`#` at the start or after whitespace), trimmed.
    private static func value(_ text: Substring) -> String {
        if let quote = text.first, quote == "\"" || quote == "'" {
            var result = ""
            var escaped = false
            for character in text.dropFirst() {
                if escaped {
                    result.append(character == "n" ? "\n" : character)
                    escaped = false
                } else if character == "\\" && quote == "\"" {
                    escaped = true
                } else if character == quote {
                    return result
                } else {
                    result.append(character)
                }
            }
            return String(text)  // unterminated quote: keep the text as written
        }
        var previous: Character = " "
        var end = text.endIndex
        for index in text.indices {
            if text[index] == "#", previous == " " || previous == "\t" {
                end = index
                break
            }
            previous = text[index]
        }
        return String(text[..<end].trimmingWhitespace)
    }

    private static func isValidKey(_ key: Substring) -> Bool {
        guard let first = key.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return key.allSatisfy { $0 == "_" || $0 == "." || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and carriage returns.
    var trimmingWhitespace: SubSequence { trimming { $0 == " " || $0 == "\t" || $0 == "\r" } }
}
