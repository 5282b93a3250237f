// The import's external sort (StagedRows): records come back in key order, rows of one key in
// the order they were added, whatever the run size; values and line numbers come back intact,
// records longer than the merge's read buffer included.
import Foundation
import GRDB
import XCTest
@testable import ListwiseKit

final class StagedRowsTests: TemporaryFolderTestCase {
    private struct Row: Equatable {
        var line: Int
        var key: String
        var number: Int64
        var ratio: Double
        var note: String
    }

    /// Adds `rows` to a StagedRows with the given run size and returns what its merge hands
    /// back, read through a real statement's bindings (`SELECT ?1, ?2, ?3, ?4`).
    private func roundTrip(_ rows: [Row], runBytes: Int, mergeBufferBytes: Int) throws -> [Row] {
        let staged = StagedRows(runBytes: runBytes, mergeBufferBytes: mergeBufferBytes)
        for row in rows {
            var key = Array(row.key.utf8), note = Array(row.note.utf8)
            try key.withUnsafeMutableBytes { key in
                try note.withUnsafeMutableBytes { note in
                    let fields = [
                        PendingField(parameter: 1, kind: .text, bits: 0, bytes: UnsafeRawPointer(key.baseAddress), count: key.count),
                        PendingField(parameter: 2, kind: .integer, bits: UInt64(bitPattern: row.number), bytes: nil, count: 0),
                        PendingField(parameter: 3, kind: .double, bits: row.ratio.bitPattern, bytes: nil, count: 0),
                        PendingField(parameter: 4, kind: .text, bits: 0, bytes: UnsafeRawPointer(note.baseAddress), count: note.count),
                    ]
                    try fields.withUnsafeBufferPointer { fields in
                        try staged.append(line: row.line, key: UnsafeRawBufferPointer(key), fields: fields)
                    }
                }
            }
        }
        XCTAssertEqual(staged.count, rows.count)
        let db = try makeDatabase()
        return try db.read { db in
            let statement = try RawStatement(db, sql: "SELECT ?1, ?2, ?3, ?4")
            var merged: [Row] = []
            try staged.merge { record in
                statement.clearBindings()
                record.bind(to: statement)
                defer { statement.reset() }
                XCTAssertTrue(try statement.step())
                merged.append(Row(line: record.line, key: statement.text(0) ?? "", number: statement.int64(1),
                                  ratio: statement.double(2), note: statement.text(3) ?? ""))
            }
            return merged
        }
    }

    func testMergedRecordsAreInKeyOrderAndStable() throws {
        // Keys of several lengths sharing long prefixes (the 16-byte prefix must not decide
        // alone), repeated so that one key has rows in many runs.
        let keys = (0..<300).map { index -> String in
            switch index % 4 {
            case 0: return String(format: "06001%06d", index)
            case 1: return String(format: "06001%06d-unit-%03d", index / 4 * 4, index)
            case 2: return String(format: "C%07d", index)
            default: return "060010000" + String(repeating: "9", count: index % 20)
            }
        }
        var rows: [Row] = []
        var state: UInt64 = 42
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        for line in 2..<6002 {
            let key = keys[Int(next() % UInt64(keys.count))]
            // One record in 500 carries a 5 KB note: longer than the merge's 1 KB read buffer.
            let note = next() % 500 == 0 ? String(repeating: "x", count: 5000) : "note \(line)"
            rows.append(Row(line: line, key: key, number: Int64(next()) - (1 << 30), ratio: Double(next()) / 7, note: note))
        }
        // Swift's sort is not stable: sort by (key bytes, line) to get the stable order.
        let expected = rows.sorted { a, b in
            a.key.utf8.elementsEqual(b.key.utf8) ? a.line < b.line : a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
        }
        for runBytes in [1 << 20, 8192, 600] {
            let merged = try roundTrip(rows, runBytes: runBytes, mergeBufferBytes: 1024)
            XCTAssertEqual(merged.count, expected.count, "runs of \(runBytes) bytes")
            XCTAssertTrue(merged == expected, "runs of \(runBytes) bytes: first difference at \(merged.indices.first { $0 < expected.count && merged[$0] != expected[$0] } ?? -1)")
        }
    }

    func testNoRecordsMergeToNothing() throws {
        XCTAssertEqual(try roundTrip([], runBytes: 4096, mergeBufferBytes: 1024), [])
    }
}
