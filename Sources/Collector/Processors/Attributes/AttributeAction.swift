import Shared

/// One entry of the attributes processor's `actions` list, validated as upstream's `attraction.NewAttrProc`
/// (contrib `internal/coreinternal/attraction/attraction.go`, reference §5).
///
/// The kind carries only what it uses, so an action that passed validation cannot hold a contradiction
/// (an `insert` with a pattern, a `convert` without a target type).
struct AttributeAction: Sendable, Equatable {
    /// Where `insert`, `update` and `upsert` take the value from.
    enum ValueSource: Sendable, Equatable {
        /// `value`: a constant from the configuration, with its YAML type.
        case value(OTLPAnyValue)
        /// `from_attribute`: another attribute of the same item; missing → the action does nothing.
        case attribute(String)
    }

    /// `converted_type` of `convert`.
    enum ConversionTarget: String, Sendable, Equatable, CaseIterable {
        case int, double, string
    }

    enum Kind: Sendable, Equatable {
        /// Sets `key` only when it is absent.
        case insert(ValueSource)
        /// Sets `key` only when it is present.
        case update(ValueSource)
        /// Sets `key` always.
        case upsert(ValueSource)
        /// Removes `key` and every key that `pattern` matches.
        case delete(pattern: AttributePattern?)
        /// Replaces the value of `key` and of every key that `pattern` matches by its SHA-256 (lowercase hex).
        case hash(pattern: AttributePattern?)
        /// Sets one string attribute per named group of `pattern` matched in the string value of `key`.
        case extract(pattern: AttributePattern)
        /// Changes the type of the value of `key`, when it converts.
        case convert(ConversionTarget)
    }

    /// `key`; empty only for `delete`/`hash` with a `pattern`.
    var key: String
    var kind: Kind
}

/// A regular expression from the configuration, compiled once (Swift `Regex`, matched on Unicode scalars
/// like Go's RE2 matches runes), compared by its source text.
struct AttributePattern: Sendable, Equatable, CustomStringConvertible {
    /// The pattern as written.
    let source: String
    /// `nonisolated(unsafe)`: `Regex` is an immutable value once built and only read here; the standard
    /// library does not mark it `Sendable`.
    nonisolated(unsafe) let regex: Regex<AnyRegexOutput>
    /// Names of the capturing groups, in order (nil for an unnamed group).
    let groupNames: [String?]

    /// Compiles `source`; the error text says what is wrong with it.
    init(_ source: String) throws(PatternError) {
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(source).matchingSemantics(.unicodeScalar)
        } catch {
            throw PatternError(description: "\(error)")
        }
        self.source = source
        self.regex = regex
        self.groupNames = Self.captureGroupNames(source)
    }

    struct PatternError: Error, CustomStringConvertible {
        var description: String
    }

    var description: String { source }

    static func == (lhs: AttributePattern, rhs: AttributePattern) -> Bool { lhs.source == rhs.source }

    /// Whether the pattern matches anywhere in `text` (Go's `MatchString`: not anchored).
    func matches(_ text: String) -> Bool {
        (try? regex.firstMatch(in: text)) != nil
    }

    /// The capturing groups of the first match in `text`, by group order: (name, matched text or "" when the
    /// group did not take part, as Go's `FindStringSubmatch`). Nil when there is no match.
    func namedCaptures(in text: String) -> [(name: String?, value: String)]? {
        guard let match = try? regex.firstMatch(in: text) else { return nil }
        return match.output.dropFirst().map { element in
            (element.name, element.substring.map(String.init) ?? "")
        }
    }

    /// The names of the capturing groups of a pattern, in order, nil for an unnamed one: `(x)` is unnamed,
    /// `(?P<n>x)`, `(?<n>x)` and `(?'n'x)` are named, `(?:x)`, `(?i)`, `(?=x)`, `(?<=x)` and friends capture
    /// nothing. Escapes and bracket expressions are skipped. Only called on a pattern that compiled.
    static func captureGroupNames(_ pattern: String) -> [String?] {
        let chars = Array(pattern.unicodeScalars)
        var names: [String?] = []
        var i = 0
        var inClass = false
        func readName(from start: Int, until terminator: Unicode.Scalar) -> (String, Int) {
            var end = start
            while end < chars.count && chars[end] != terminator { end += 1 }
            var name = String.UnicodeScalarView()
            name.append(contentsOf: chars[start..<min(end, chars.count)])
            return (String(name), end)
        }
        while i < chars.count {
            let c = chars[i]
            if c == "\\" {
                // `\Q…\E` quotes everything up to `\E`.
                if i + 1 < chars.count && chars[i + 1] == "Q" {
                    i += 2
                    while i + 1 < chars.count && !(chars[i] == "\\" && chars[i + 1] == "E") { i += 1 }
                }
                i += 2
                continue
            }
            if inClass {
                if c == "[" && i + 1 < chars.count && chars[i + 1] == ":" {
                    // A POSIX class such as `[:alpha:]` inside a bracket expression.
                    var j = i + 2
                    while j + 1 < chars.count && !(chars[j] == ":" && chars[j + 1] == "]") { j += 1 }
                    i = j + 2
                    continue
                }
                if c == "]" { inClass = false }
                i += 1
                continue
            }
            if c == "[" {
                inClass = true
                i += 1
                // A `]` right after `[` or `[^` is a literal.
                if i < chars.count && chars[i] == "^" { i += 1 }
                if i < chars.count && chars[i] == "]" { i += 1 }
                continue
            }
            if c == "(" {
                guard i + 1 < chars.count, chars[i + 1] == "?" else {
                    names.append(nil)
                    i += 1
                    continue
                }
                let rest = chars[(i + 2)...]
                if rest.starts(with: ["P", "<"]) {
                    let (name, end) = readName(from: i + 4, until: ">")
                    names.append(name)
                    i = end + 1
                } else if rest.starts(with: ["<"]) && !rest.starts(with: ["<", "="]) && !rest.starts(with: ["<", "!"]) {
                    let (name, end) = readName(from: i + 3, until: ">")
                    names.append(name)
                    i = end + 1
                } else if rest.starts(with: ["'"]) {
                    let (name, end) = readName(from: i + 3, until: "'")
                    names.append(name)
                    i = end + 1
                } else {
                    i += 2
                }
                continue
            }
            i += 1
        }
        return names
    }
}
