import Foundation
import Testing

@testable import Runner

struct InputTests {
    @Test func jsonLinesSkipsBlankLinesAndKeepsBadRecords() throws {
        let directory = try temporaryDirectory()
        let path = directory + "/input.jsonl"
        try write(
            """
            {"id": 1, "features": [1.0, 2.0, 3.0]}

            {"id": 2, "features": [4.0, 5.0, 6.0]}\r
            not json
            {"id": 4, "features": [1, 2, 3]}
            """, to: path)
        let (records, total) = try readAll(.file(path))
        #expect(total == 4)
        #expect(records.map(\.position) == [0, 1, 2, 3])
        #expect(records[1].features == [4, 5, 6])
        #expect(records[2].problem == "not a JSON object")
        #expect(records[3].id == .int(4))
    }

    @Test func jsonArrayIsStreamedElementByElement() throws {
        let directory = try temporaryDirectory()
        let path = directory + "/input.json"
        try write(#"  [ {"id": 1, "features": [1, 2]}, {"id": "b", "note": "a ] , in a string", "features": [3]} ,{"id": 3} ]"#, to: path)
        let (records, total) = try readAll(.file(path))
        #expect(total == 3)
        #expect(records.map(\.id) == [.int(1), .string("b"), .int(3)])
        #expect(records[1].features == [3])
        #expect(records[2].problem == "missing features")
    }

    @Test func strayClosingBraceSpoilsOnlyItsOwnElement() throws {
        let directory = try temporaryDirectory()
        let path = directory + "/input.json"
        try write(#"[{"id": 1, "features": [1]}}, {"id": 2, "features": [2]}, {"id": 3, "features": [3]}]"#, to: path)
        let (records, total) = try readAll(.file(path))
        #expect(total == 3)
        #expect(records[0].problem != nil)
        #expect(records[1].id == .int(2) && records[1].features == [2])
        #expect(records[2].id == .int(3) && records[2].problem == nil)
    }

    @Test func emptyJSONArray() throws {
        let directory = try temporaryDirectory()
        try write("[]", to: directory + "/empty.json")
        #expect(try readAll(.file(directory + "/empty.json")).records.isEmpty)
    }

    @Test func csvWithHeader() throws {
        let directory = try temporaryDirectory()
        let path = directory + "/input.csv"
        try write(
            """
            f1,id,f2
            1.5,1,2
            "3",two,4

            5,,6
            7,4,x
            8,5
            """, to: path)
        let (records, total) = try readAll(.file(path))
        #expect(total == 5)
        #expect(records[0] == InputRecord(position: 0, id: .int(1), features: [1.5, 2], problem: nil))
        #expect(records[1].id == .string("two"))
        #expect(records[1].features == [3, 4])
        #expect(records[2].problem == "missing id")
        #expect(records[3].problem == "feature 1 is not a number")
        #expect(records[4].problem == "expected 3 columns, found 2")
    }

    @Test func csvWithoutIDColumnIsUnreadable() throws {
        let directory = try temporaryDirectory()
        try write("a,b\n1,2\n", to: directory + "/x.csv")
        #expect(throws: InputError.self) { try readAll(.file(directory + "/x.csv")) }
    }

    @Test func missingFileIsUnreadable() {
        #expect(throws: InputError.self) { try readAll(.file("/nonexistent/input.jsonl")) }
    }

    @Test func longLinesCrossChunkBoundaries() throws {
        let directory = try temporaryDirectory()
        let path = directory + "/long.jsonl"
        let features = (0..<20000).map { _ in "1.0" }.joined(separator: ",")
        try write((1...3).map { #"{"id": \#($0), "features": [\#(features)]}"# }.joined(separator: "\n"), to: path)
        let (records, _) = try readAll(.file(path))
        #expect(records.count == 3)
        #expect(records.allSatisfy { $0.features.count == 20000 && $0.problem == nil })
    }

    @Test func generatedRecordsAreDeterministic() throws {
        let first = try readAll(.generated(50)).records
        let second = try readAll(.generated(50)).records
        #expect(first == second)
        #expect(first.map(\.id) == (1...50).map { .int(Int64($0)) })
        #expect(first.allSatisfy { $0.features.count == GeneratedSource.featureCount })
    }

    @Test func labInputIsTheTwoRecords() throws {
        let records = try readAll(.lab).records
        #expect(records.map { SumModel().predict($0.features) } == [6, 15])
    }

    @Test(arguments: [(10, 0, 3), (10, 1, 3), (10, 3, 2), (2, 3, 0), (0, 0, 0), (12, 3, 3), (13, 0, 4)])
    func shardCounts(total: Int, index: Int, expected: Int) {
        #expect(RecordInput.count(total, in: Shard(index: index, count: 4)) == expected)
        #expect((0..<total).filter { Shard(index: index, count: 4).contains(position: $0) }.count == expected)
    }

    @Test func formatDetection() {
        #expect(InputFormat.detect(path: "a.jsonl", firstByte: UInt8(ascii: "[")) == .jsonLines)
        #expect(InputFormat.detect(path: "a.txt", firstByte: UInt8(ascii: "[")) == .jsonArray)
        #expect(InputFormat.detect(path: "a.json", firstByte: UInt8(ascii: "{")) == .jsonLines)
        #expect(InputFormat.detect(path: "data", firstByte: UInt8(ascii: "i")) == .csv)
    }

    @Test func linearModel() throws {
        let directory = try temporaryDirectory()
        try write(#"{"weights": [1, 2], "bias": 0.5}"#, to: directory + "/m.json")
        let model = try LinearModel.load(path: directory + "/m.json")
        #expect(model.predict([1, 1]) == 3.5)
        #expect(model.featureCount == 2)
        let sigmoid = LinearModel(weights: [0], bias: 0, activation: .sigmoid)
        #expect(sigmoid.predict([5]) == 0.5)
        try write(#"{"bias": 1}"#, to: directory + "/bad.json")
        #expect(throws: ConfigurationError.self) { try LinearModel.load(path: directory + "/bad.json") }
    }
}
