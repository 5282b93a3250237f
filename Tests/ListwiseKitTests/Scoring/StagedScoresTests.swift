// The spill of a score run's scores and the batched INSERT that writes them back.
import Foundation
import GRDB
import XCTest
@testable import ListwiseKit

final class StagedScoresTests: TemporaryFolderTestCase {
    func testScoresComeBackInOrderAcrossBufferRefillsAndLongerThanTheBuffer() throws {
        let stage = try StagedScores()
        var expected: [HomeScore] = []
        // ~3 buffers of small records (records straddle each refill), then one record longer than
        // the buffer, then more small ones.
        for i in 0..<60_000 {
            let reasons = (0..<(i % 4)).map { "reason \($0) of home \(i)" }
            expected.append(HomeScore(propertyID: "P\(i)", probability: Double(i) / 60_000, onMarket: i % 7 == 0, reasons: reasons))
            if i == 40_000 {
                let long = String(repeating: "é", count: StagedScores.bufferBytes)   // 2 bytes a character
                expected.append(HomeScore(propertyID: long, probability: .pi / 4, onMarket: false, reasons: [long, "", "x"]))
            }
        }
        expected.append(HomeScore(propertyID: "", probability: 0, onMarket: true, reasons: []))
        for score in expected { try stage.append(score) }
        XCTAssertEqual(stage.count, expected.count)

        var got: [HomeScore] = []
        var sinceRefill: [(StagedScores.Row, HomeScore)] = []
        var refills = 0
        func text(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }
        func check(_ row: StagedScores.Row, _ score: HomeScore) {
            XCTAssertEqual(text(row.id), score.propertyID)
            XCTAssertEqual([row.reasons.0, row.reasons.1, row.reasons.2].compactMap { $0 }.map(text), score.reasons)
        }
        try stage.forEach(beforeBytesMove: {
            // The bytes of every row handed over since the last refill are still in place.
            for (row, score) in sinceRefill { check(row, score) }
            sinceRefill = []
            refills += 1
        }) { index, row in
            XCTAssertEqual(index, got.count)
            let score = HomeScore(propertyID: text(row.id), probability: row.probability, onMarket: row.onMarket,
                                  reasons: [row.reasons.0, row.reasons.1, row.reasons.2].compactMap { $0 }.map(text))
            got.append(score)
            sinceRefill.append((row, expected[index]))
        }
        XCTAssertEqual(got, expected)
        XCTAssertGreaterThan(refills, 3)
        XCTAssertTrue(sinceRefill.isEmpty, "called once more at the end, before the bytes are freed")
    }

    func testBatchedInsertWritesFullAndShortBatchesInOrder() throws {
        let db = try makeDatabase()
        try db.write { db in
            try db.execute(sql: "CREATE TABLE t (n INTEGER NOT NULL, x REAL, s TEXT NOT NULL)")
            let insert = try BatchedInsert(db, table: "t", columns: ["n", "x", "s"], batchRows: 64)
            for n in 0..<150 {
                insert.bind(0, Int64(n))
                if n % 5 == 0 { insert.bindNull(1) } else { insert.bind(1, Double(n) / 2) }
                insert.bind(2, "row \(n)")
                try insert.endRow()
            }
            try insert.flush()
            try insert.flush()   // nothing pending: writes nothing
            let rows = try Row.fetchAll(db, sql: "SELECT rowid, n, x, s FROM t ORDER BY rowid")
            XCTAssertEqual(rows.map { $0["n"] as Int }, Array(0..<150))
            let halves: [Double?] = (0..<150).map { n -> Double? in n % 5 == 0 ? nil : Double(n) / 2 }
            XCTAssertEqual(rows.map { row -> Double? in row["x"] }, halves)
            XCTAssertEqual(rows.map { $0["s"] as String }, (0..<150).map { "row \($0)" })
            // A row the schema refuses fails its batch with SQLite's error.
            insert.bind(0, Int64(1))
            insert.bind(1, 1.0)
            insert.bindNull(2)
            try insert.endRow()
            XCTAssertThrowsError(try insert.flush()) { XCTAssertTrue("\($0)".contains("NOT NULL"), "\($0)") }
        }
    }
}
