import Shared
import Testing

@testable import Runner

struct KubernetesQuantityTests {
    @Test(arguments: [
        ("250m", 0.25), ("0.5", 0.5), ("1", 1), ("512Mi", 536_870_912), ("1G", 1e9), ("1Gi", 1_073_741_824), ("1e3", 1000),
        ("2Ki", 2048), ("1.5", 1.5), ("100k", 100_000), ("500M", 5e8), ("1E", 1e18), ("3E-2", 0.03), (" 250m ", 0.25),
    ])
    func parses(text: String, value: Double) throws {
        let quantity = try #require(KubernetesQuantity(text))
        #expect(abs(quantity.value - value) <= value * 1e-12)
    }

    @Test(arguments: ["", "abc", "-1", "1.2.3", "5X", "m", "1e", "Mi", "1 Gi"])
    func rejects(text: String) {
        #expect(KubernetesQuantity(text) == nil)
    }

    @Test func memoryInTheLabsUnits() throws {
        #expect(try #require(KubernetesQuantity("512Mi")).gibibytes == 0.5)
        #expect(try #require(KubernetesQuantity("512Mi")).mebibytes == 512)
    }
}

struct DotEnvTests {
    /// The lab's `.env.example` text, inline comments and all.
    static let labText = """
        # Application Environment
        APP_ENV=local

        # OpenTelemetry Configuration
        OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector-paid:4318
        COST_PER_CPU_HOUR=0.04        # $0.04 per CPU-hour (typical cloud cost)
        COST_PER_MEMORY_GB_HOUR=0.005 # $0.005 per GB-hour
        CPU_REQUEST=250m               # Guaranteed minimum
        MEMORY_LIMIT=512Mi
        """

    @Test func readsTheLabsFileWithInlineComments() {
        let (values, ignored) = DotEnv.parse(Self.labText)
        #expect(ignored.isEmpty)
        #expect(values["APP_ENV"] == "local")
        #expect(values["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector-paid:4318")
        #expect(values["COST_PER_CPU_HOUR"] == "0.04")
        #expect(values["COST_PER_MEMORY_GB_HOUR"] == "0.005")
        #expect(values["CPU_REQUEST"] == "250m")
        #expect(values["MEMORY_LIMIT"] == "512Mi")
        #expect(values.count == 6)
    }

    @Test func quotesExportAndHashesInsideValues() {
        let text = """
            export A="x # not a comment"
            B='single # kept'
            C=a#b
            D="line\\nbreak"   # comment
            E=
            not a line
            9BAD=1
            """
        let (values, ignored) = DotEnv.parse(text)
        #expect(values["A"] == "x # not a comment")
        #expect(values["B"] == "single # kept")
        #expect(values["C"] == "a#b")
        #expect(values["D"] == "line\nbreak")
        #expect(values["E"] == "")
        #expect(ignored == [6, 7])
    }
}

struct JSONRecordParserTests {
    private func parse(_ text: String) -> InputRecord {
        JSONRecordParser.parse(Array(text.utf8)[...], position: 7)
    }

    @Test func goodRecords() {
        #expect(parse(#"{"id": 1, "features": [1.0, 2.0, 3.0]}"#) == InputRecord(position: 7, id: .int(1), features: [1, 2, 3], problem: nil))
        #expect(parse(#" {"features":[-1e2,0.5],"extra":{"a":[1,"]}"]},"id":"r-1"} "#).features == [-100, 0.5])
        #expect(parse(#"{"id":"a\"b","features":[]}"#).id == .string("a\"b"))
    }

    @Test(arguments: [
        (#"{"features": [1, 2]}"#, "missing id"),
        (#"{"id": null, "features": [1]}"#, "missing id"),
        (#"{"id": 3}"#, "missing features"),
        (#"{"id": 3, "features": [1, "x"]}"#, "feature 1 is not a number"),
        (#"{"id": 3, "features": [1, null]}"#, "feature 1 is not a number"),
        (#"{"id": 3, "features": "1,2"}"#, "features is not an array"),
        (#"{"id": 1.5, "features": [1]}"#, "id is not an integer or a string"),
        (#"[1, 2]"#, "not a JSON object"),
        (#"{"id": 3, "features": [1, 2]"#, "malformed JSON: expected , or }"),
        (#"{"id": 3, "features": [1, 2]} x"#, "malformed JSON: text after the object"),
    ])
    func badRecords(text: String, problem: String) {
        #expect(parse(text).problem == problem)
    }

    @Test func badRecordKeepsItsID() {
        #expect(parse(#"{"id": 42, "features": ["a"]}"#).id == .int(42))
    }
}
