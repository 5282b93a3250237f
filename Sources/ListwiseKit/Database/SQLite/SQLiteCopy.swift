// The SQLite side of `listwise db copy` (StoreCopy.swift): counts, and batches of rows written
// with foreign keys off.
import Foundation
import GRDB

extension AppDatabase {
    func tableCounts(_ tables: [String]) throws -> [String: Int] {
        try read { db in
            try Dictionary(uniqueKeysWithValues: tables.map { ($0, try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)") ?? 0) })
        }
    }

    /// Fills `score_ranks` from every run's scores (a store copied from PostgreSQL).
    func fillScoreRanks() throws {
        try write { db in
            for runID in try Int64.fetchAll(db, sql: "SELECT id FROM score_runs ORDER BY id") {
                try Self.fillScoreRanks(db, runID: runID)
            }
        }
    }

    /// Inserts `rows` with `sql` in one transaction, foreign keys off (a copy writes referenced
    /// tables first, but a history may name rows that were deleted since).
    func insertRows(sql: String, _ rows: [[RawStatement.Value]]) throws {
        try writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
            try db.inTransaction {
                let insert = try RawStatement(db, sql: sql, persistent: true)
                for values in rows { try insert.run(values) }
                return .commit
            }
        }
    }
}
