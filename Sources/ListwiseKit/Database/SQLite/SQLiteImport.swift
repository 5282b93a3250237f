// Imports into the SQLite store (SPEC §1): one transaction a file, rows bound raw through
// RowLoader.
import Foundation
import GRDB

extension AppDatabase {
    /// Imports `path` as `kind` (detected from the file name or header when nil).
    /// The database changes in one transaction or not at all. Throws `ListwiseError.usage`
    /// for a file that cannot be imported (not CSV, empty, missing a required column).
    public func importFile(_ path: String, kind: ImportKind? = nil, options: ImportOptions = ImportOptions(),
                           progress: ((ImportProgress) -> Void)? = nil) throws -> ImportSummary {
        let started = Date()
        let source = try ImportSource(path: path, kind: kind, mapping: options.mapping)
        let (reader, header, kind, resolved) = (source.reader, source.header, source.kind, source.resolved)

        let rejectsPath = options.rejectsPath ?? path + ".rejects.csv"
        let rejects = try RejectsWriter(finalPath: rejectsPath, mode: options.rejectsMode)
        var succeeded = false
        defer { if !succeeded { rejects.discard() } }

        var summary = ImportSummary(file: path, kind: kind, rows: 0, inserted: 0, updated: 0, unchanged: 0,
                                    rejected: 0, rejectedByReason: [:], unknownColumns: resolved.unknown,
                                    rejectsFile: nil, importID: nil, seconds: 0)
        // The importer checks property references itself (RowLoader), once per run of rows with
        // the same property_id, so SQLite's per-row foreign-key lookup is switched off for this
        // one transaction (it can only be switched outside a transaction) and back on after.
        try writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
            try db.inTransaction(.immediate) {
                let loader = try RowLoader(kind: kind, resolved: resolved, header: header, db: db,
                                           idSetAfterStagedRows: options.idSetAfterStagedRows,
                                           stagingRunBytes: options.stagingRunBytes)
                let countSQL = "SELECT count(*) FROM \(kind.table)"
                let countBefore = kind == .events ? 0 : try Int.fetchOne(db, sql: countSQL) ?? 0
                var changed = 0
                var lastReport = 0
                while try readRecord(reader, path: path) {
                    summary.rows += 1
                    switch try loader.load(reader, headerCount: header.count) {
                    case .changed: changed += 1
                    case .unchanged: summary.unchanged += 1
                    case .staged: break
                    case .rejected(let column, let value, let reason):
                        summary.rejected += 1
                        summary.rejectedByReason[reason.rawValue, default: 0] += 1
                        try rejects.write(file: path, line: reader.recordLine, column: column, value: value, reason: reason)
                    }
                    if summary.rows - lastReport >= options.progressEveryRows {
                        lastReport = summary.rows
                        progress?(ImportProgress(file: path, rows: summary.rows, bytesRead: reader.bytesConsumed,
                                                 totalBytes: reader.fileSize))
                    }
                }
                guard summary.rows > 0 else {
                    throw ListwiseError.usage("\(path): empty file (a header but no data rows)")
                }
                progress?(ImportProgress(file: path, rows: summary.rows, bytesRead: reader.fileSize, totalBytes: reader.fileSize,
                                         sorting: true))
                let merged = try loader.mergeStaged(path: path)
                changed += merged.changed
                summary.unchanged += merged.unchanged
                if kind == .events {
                    summary.inserted = changed
                } else {
                    summary.inserted = (try Int.fetchOne(db, sql: countSQL) ?? 0) - countBefore
                    summary.updated = changed - summary.inserted
                }
                summary.seconds = Date().timeIntervalSince(started)
                var run = ImportRunRecord(
                    id: nil, kind: kind.rawValue, file: path, sha256: reader.checksumHex(),
                    startedAt: Self.timestamp(started), finishedAt: Self.timestamp(Date()),
                    rows: summary.rows, inserted: summary.inserted, updated: summary.updated,
                    unchanged: summary.unchanged, rejected: summary.rejected,
                    newestEventDate: loader.newestEventDate.isEmpty ? nil : String(decoding: loader.newestEventDate, as: UTF8.self))
                try run.insert(db)
                summary.importID = run.id
                return .commit
            }
        }
        succeeded = true
        summary.rejectsFile = try rejects.commit()
        progress?(ImportProgress(file: path, rows: summary.rows, bytesRead: reader.fileSize, totalBytes: reader.fileSize))
        return summary
    }

    private func readRecord(_ reader: CSVReader, path: String) throws -> Bool {
        try ImportSource.readRecord(reader, path: path)
    }

    /// The timestamps listwise writes: ISO 8601 UTC with milliseconds (comparable as text).
    public static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter.listwise.string(from: date)
    }
}
