/// Opens the configured input: the record stream, and the number of records it holds (found by a
/// streaming pre-pass for files, so `Starting batch inference job` can say `total_records`).
enum RecordInput {
    /// A source plus its record count over all shards.
    struct Opened {
        var source: any RecordSource
        var totalRecords: Int
        var format: String
    }

    static func open(_ selection: InputSelection) throws(InputError) -> Opened {
        switch selection {
        case .lab:
            return Opened(source: LabSource(), totalRecords: LabSource.records.count, format: "builtin")
        case .generated(let count):
            return Opened(source: GeneratedSource(count: count), totalRecords: count, format: "generated")
        case .file(let path):
            let format = try detect(path)
            let total = try count(path: path, format: format)
            let reader = try FileByteReader(path: path)
            let source: any RecordSource
            switch format {
            case .jsonLines: source = JSONLinesSource(reader: reader)
            case .jsonArray: source = JSONArraySource(reader: reader)
            case .csv: source = try CSVSource(reader: reader)
            }
            return Opened(source: source, totalRecords: total, format: format.rawValue)
        }
    }

    /// Records of `total` that fall in `shard` (positions ≡ index mod count).
    static func count(_ total: Int, in shard: Shard?) -> Int {
        guard let shard else { return total }
        return total > shard.index ? (total - shard.index + shard.count - 1) / shard.count : 0
    }

    private static func detect(_ path: String) throws(InputError) -> InputFormat {
        let reader = try FileByteReader(path: path, chunkSize: 4096)
        return InputFormat.detect(path: path, firstByte: try reader.peekNonWhitespace())
    }

    /// Counts records without parsing them: non-blank lines (minus the CSV header), or top-level
    /// array elements.
    private static func count(path: String, format: InputFormat) throws(InputError) -> Int {
        let reader = try FileByteReader(path: path)
        switch format {
        case .jsonLines, .csv:
            var lines = 0
            while let line = try reader.nextLine() {
                if line.contains(where: { $0 != 0x20 && $0 != 0x09 }) { lines += 1 }
            }
            return format == .csv ? max(0, lines - 1) : lines
        case .jsonArray:
            var source = JSONArraySource(reader: reader)
            var elements = 0
            while try source.next() != nil { elements += 1 }
            return elements
        }
    }
}
