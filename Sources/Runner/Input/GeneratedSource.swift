/// N deterministic synthetic records (`--generate N`): id = position + 1, four features derived from the
/// position, so every run and every shard sees the same data.
struct GeneratedSource: RecordSource {
    let count: Int
    static let featureCount = 4
    private var position = 0

    init(count: Int) {
        self.count = count
    }

    mutating func next() -> InputRecord? {
        guard position < count else { return nil }
        defer { position += 1 }
        return Self.record(at: position)
    }

    static func record(at position: Int) -> InputRecord {
        var state = UInt64(truncatingIfNeeded: position) &* 0x9E37_79B9_7F4A_7C15 &+ 0x2545_F491_4F6C_DD1D
        var features = [Double]()
        features.reserveCapacity(featureCount)
        for _ in 0..<featureCount {
            // splitmix64 step → a value in 0.0 ..< 10.0 with two decimals.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            features.append(Double(z % 1000) / 100)
        }
        return InputRecord(position: position, id: .int(Int64(position) + 1), features: features, problem: nil)
    }
}

/// The lab's `data/input.jsonl`: two records, predictions 6.0 and 15.0.
struct LabSource: RecordSource {
    static let records = [
        InputRecord(position: 0, id: .int(1), features: [1, 2, 3], problem: nil),
        InputRecord(position: 1, id: .int(2), features: [4, 5, 6], problem: nil),
    ]
    private var position = 0

    mutating func next() -> InputRecord? {
        guard position < Self.records.count else { return nil }
        defer { position += 1 }
        return Self.records[position]
    }
}
