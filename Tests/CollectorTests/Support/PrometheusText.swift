/// The samples of a Prometheus text exposition, for exact assertions: `name{label="v",…} value` lines
/// (comments skipped). Label order does not matter when looking a sample up.
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    let samples: [Sample]
    /// `# TYPE` lines: metric family → type.
    let types: [String: String]

    init(_ bytes: [UInt8]) { self.init(String(decoding: bytes, as: UTF8.self)) }

    init(_ text: String) {
        var samples: [Sample] = []
        var types: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
                continue
            }
            if line.hasPrefix("#") || line.isEmpty { continue }
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            var name = String(series)
            var labels: [String: String] = [:]
            if let open = series.firstIndex(of: "{"), series.hasSuffix("}") {
                name = String(series[..<open])
                let body = series[series.index(after: open)..<series.index(before: series.endIndex)]
                // Label values here never contain `,` or `"` escapes.
                for pair in body.split(separator: ",") {
                    guard let equals = pair.firstIndex(of: "=") else { continue }
                    labels[String(pair[..<equals])] = String(pair[pair.index(after: equals)...].dropFirst().dropLast())
                }
            }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
        self.samples = samples
        self.types = types
    }

    /// The value of the one sample with this name and exactly these labels.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { $0.name == name && $0.labels == labels }
        return matching.count == 1 ? matching[0].value : nil
    }

    /// A histogram's cumulative count at bucket bound `le` (`.infinity` for `+Inf`).
    func bucket(_ name: String, _ labels: [String: String], le: Double) -> Double? {
        let matching = samples.filter { sample in
            guard sample.name == name + "_bucket", let bound = sample.labels["le"] else { return false }
            var others = sample.labels
            others["le"] = nil
            return others == labels && (bound == "+Inf" ? Double.infinity : Double(bound)) == le
        }
        return matching.count == 1 ? matching[0].value : nil
    }

    /// Every metric name served.
    var names: Set<String> { Set(samples.map(\.name)) }
}
