import Foundation

@testable import Runner

/// A fresh temporary directory for one test.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "runner-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func write(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// Every record of a source, in order.
func readAll(_ selection: InputSelection) throws -> (records: [InputRecord], total: Int) {
    var opened = try RecordInput.open(selection)
    var records: [InputRecord] = []
    while let record = try opened.source.next() { records.append(record) }
    return (records, opened.totalRecords)
}

enum FileManagerHelper {
    static func makeDirectories(_ paths: String...) throws {
        for path in paths { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    }
}
