import Testing

@testable import Collector

@Suite("YAML documents read with libyaml")
struct YAMLComposerTests {
    private func parse(_ yaml: String) throws(ConfigError) -> ConfigValue { try ConfigValue.parse(yaml: yaml) }

    @Test("mappings keep their keys in order; sequences, flow collections and nesting")
    func structure() throws {
        let value = try parse("""
            # a comment
            receivers:
              otlp:
                protocols: {grpc: {endpoint: "0.0.0.0:4317"}, http: null}
            service:
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters:
                    - debug
                    - logging
            """)
        #expect(value == .mapping([
            ("receivers", .mapping([("otlp", .mapping([("protocols", .mapping([
                ("grpc", .mapping([("endpoint", .scalar("0.0.0.0:4317", quoted: true))])), ("http", .null),
            ]))]))])),
            ("service", .mapping([("pipelines", .mapping([("traces", .mapping([
                ("receivers", .sequence([.scalar("otlp", quoted: false)])),
                ("exporters", .sequence([.scalar("debug", quoted: false), .scalar("logging", quoted: false)])),
            ]))]))])),
        ]))
    }

    @Test("scalars keep their text; plain null forms are null, quoted and block scalars are strings")
    func scalars() throws {
        let value = try parse("""
            a: ~
            b: null
            c:
            d: 'null'
            e: "x\\ty"
            f: 0x10
            g: |
              line 1
              line 2
            h: >
              folded
              text
            i: ${env:PORT}
            j: héllo ✓
            """)
        #expect(value["a"] == .null)
        #expect(value["b"] == .null)
        #expect(value["c"] == .null)
        #expect(value["d"] == .scalar("null", quoted: true))
        #expect(value["e"] == .scalar("x\ty", quoted: true))
        #expect(value["f"] == .scalar("0x10", quoted: false))
        #expect(value["g"] == .scalar("line 1\nline 2\n", quoted: true))
        #expect(value["h"] == .scalar("folded text\n", quoted: true))
        #expect(value["i"] == .scalar("${env:PORT}", quoted: false))
        #expect(value["j"] == .scalar("héllo ✓", quoted: false))
    }

    @Test("an empty document is null; anchors resolve where their aliases are")
    func emptyAndAliases() throws {
        #expect(try parse("") == .null)
        #expect(try parse("# only a comment\n") == .null)
        let value = try parse("""
            base: &limits {limit_mib: 400}
            other: *limits
            list: [&one 1, *one]
            """)
        #expect(value["other"] == .mapping([("limit_mib", .scalar("400", quoted: false))]))
        #expect(value["list"] == .sequence([.scalar("1", quoted: false), .scalar("1", quoted: false)]))
    }

    @Test("syntax errors, undefined aliases, a second document and non-scalar keys say what and where", arguments: [
        ("a: b: c\n", "cannot parse YAML: line 1, column 5: mapping values are not allowed in this context"),
        ("a: [1, 2\n", "cannot parse YAML: line 2, column 1: did not find expected ',' or ']' (while parsing a flow sequence, line 1, column 4)"),
        ("a: *nowhere\n", "cannot parse YAML: line 1, column 4: undefined alias *nowhere"),
        ("a: 1\n---\nb: 2\n", "cannot parse YAML: line 2, column 1: expected a single document, found another"),
        ("? [a, b]\n: c\n", "mapping keys must be scalars"),
        ("a: \"unterminated\n", "cannot parse YAML: line 2, column 1: found unexpected end of stream (while scanning a quoted scalar, line 1, column 4)"),
    ])
    func errors(_ yaml: String, _ message: String) {
        #expect(throws: ConfigError(message)) { try parse(yaml) }
    }

    @Test("nested aliases and deep nesting are bounded errors, not exhausted memory or stack")
    func limits() throws {
        // 30 levels of two aliases each would stand for 2^30 nodes.
        var laughs = "l0: &l0 [x, x]\n"
        for level in 1...30 { laughs += "l\(level): &l\(level) [*l\(level - 1), *l\(level - 1)]\n" }
        do {
            _ = try parse(laughs)
            Issue.record("no error")
        } catch {
            #expect(error.message.hasSuffix("the document contains excessive aliasing (more than 1000000 nodes)"), "\(error)")
        }
        let deep = String(repeating: "[", count: 1_001) + String(repeating: "]", count: 1_001)
        #expect(throws: ConfigError("cannot parse YAML: line 1, column 1001: nested deeper than 1000 levels")) { try parse(deep) }
        // Within the limits: an anchor used many times is fine.
        var many = "a: &a {k: v}\nlist:\n"
        for _ in 0..<1_000 { many += "  - *a\n" }
        #expect(try parse(many)["list"] == .sequence(Array(repeating: .mapping([("k", .scalar("v", quoted: false))]), count: 1_000)))
    }
}
