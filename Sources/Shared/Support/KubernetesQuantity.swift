/// Kubernetes resource quantities (`250m`, `0.5`, `512Mi`, `1G`, `1e3`, `2Ki`), as `kubectl` and the
/// downward API write them. See <https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/>.
///
/// The value is kept as a `Double` of base units (cores for CPU, bytes for memory): exact for every
/// quantity a pod spec can hold, and what the cost model multiplies with.
package struct KubernetesQuantity: Sendable, Hashable, CustomStringConvertible {
    /// The quantity in base units (cores, bytes).
    package var value: Double
    /// The text it was parsed from.
    package var text: String

    /// Parses `<signed number><suffix>` where the suffix is a binary SI (`Ki Mi Gi Ti Pi Ei`), a decimal
    /// SI (`n u m "" k M G T P E`) or a decimal exponent (`e3`, `E-2`). Nil for anything else, for
    /// negative values and for non-finite ones.
    package init?(_ text: String) {
        let trimmed = String(text.trimmingASCIIWhitespace.filter { $0 != "\n" && $0 != "\r" })
        guard !trimmed.isEmpty else { return nil }
        // Split at the first character that cannot belong to the number (exponents handled below).
        var numberEnd = trimmed.startIndex
        for index in trimmed.indices {
            let character = trimmed[index]
            if character.isASCII, character.isNumber || character == "." || ((character == "+" || character == "-") && index == trimmed.startIndex) {
                numberEnd = trimmed.index(after: index)
            } else {
                break
            }
        }
        let numberText = trimmed[trimmed.startIndex..<numberEnd]
        let suffix = trimmed[numberEnd...]
        guard !numberText.isEmpty, numberText.contains(where: \.isNumber), let number = Double(numberText) else { return nil }
        let multiplier: Double
        if let scale = Self.suffixes[String(suffix)] {
            multiplier = scale
        } else if let first = suffix.first, first == "e" || first == "E", let exponent = Int(suffix.dropFirst()), abs(exponent) <= 30 {
            multiplier = Self.power10(exponent)
        } else {
            return nil
        }
        let value = number * multiplier
        guard value.isFinite, value >= 0 else { return nil }
        self.value = value
        self.text = trimmed
    }

    /// A quantity from its base-unit value (for defaults read elsewhere, e.g. cgroup files).
    package init(value: Double, text: String) {
        self.value = value
        self.text = text
    }

    package var description: String { text }

    /// CPU cores (the base unit of a CPU quantity).
    package var cores: Double { value }
    /// Bytes (the base unit of a memory quantity).
    package var bytes: Double { value }
    /// Memory in GiB, the unit the lab's cost rates use (`512Mi` = 0.5 GB).
    package var gibibytes: Double { value / 1_073_741_824 }
    /// Memory in MiB.
    package var mebibytes: Double { value / 1_048_576 }

    // MARK: - Suffix table

    private static let suffixes: [String: Double] = [
        "": 1,
        "n": 1e-9, "u": 1e-6, "m": 1e-3,
        "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
        "Ki": 1024, "Mi": 1_048_576, "Gi": 1_073_741_824, "Ti": 1_099_511_627_776,
        "Pi": 1_125_899_906_842_624, "Ei": 1_152_921_504_606_846_976,
    ]

    private static func power10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(exponent) { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }
}
