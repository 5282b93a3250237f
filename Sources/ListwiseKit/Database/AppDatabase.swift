// The one owner of the SQLite database: opens it (WAL, busy timeout), migrates it, and
// exposes intention-named operations. Nothing else opens the file.
import Foundation
import GRDB

public final class AppDatabase: Sendable {
    /// The writer is private; other parts of listwise go through the methods of this type.
    let writer: any DatabaseWriter
    public let path: String

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            // WAL + NORMAL is durable at every commit point that matters to us (a crash can lose
            // at most the last transaction, never corrupt); the larger cache speeds bulk imports.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -65536")  // 64 MiB
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ListwiseError.usage("database folder does not exist: \(directory)")
        }
        do {
            writer = try DatabasePool(path: path, configuration: config)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw ListwiseError.usage("\(path) is not a listwise database (not an SQLite file)")
        }
        self.path = path
        try Self.migrator.migrate(writer)
    }

    /// Applied migrations, in order; used by `status` and tests.
    public func appliedMigrations() throws -> [String] {
        try writer.read { db in try Self.migrator.appliedIdentifiers(db) }.sorted()
    }

    /// Read access for queries of other parts of the library.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.read(body)
    }

    /// Counts of the four data tables.
    public func dataCounts() throws -> DataCounts {
        try writer.read { db in
            DataCounts(
                properties: try PropertyRecord.fetchCount(db),
                owners: try OwnerRecord.fetchCount(db),
                prospects: try ProspectRecord.fetchCount(db),
                events: try EventRecord.fetchCount(db))
        }
    }

    /// Import runs, newest first.
    public func importRuns() throws -> [ImportRunRecord] {
        try writer.read { db in
            try ImportRunRecord.order(ImportRunRecord.Columns.id.desc).fetchAll(db)
        }
    }
}

public struct DataCounts: Equatable, Sendable, Codable {
    public var properties: Int
    public var owners: Int
    public var prospects: Int
    public var events: Int
}
