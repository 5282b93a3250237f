// The one owner of the SQLite database: opens it (WAL, busy timeout), migrates it, and
// exposes intention-named operations. Nothing else opens the file.
import Foundation
import GRDB

public final class AppDatabase: Sendable {
    /// Private: the store's operations (Database/SQLite/) go through `read`, `write` and
    /// `writeWithoutTransaction` below; nothing outside the store sees a database handle.
    private let writer: any DatabaseWriter
    public let path: String
    /// Set when an existing database file is readable by group or others: it holds owners'
    /// names and contacts. The command line prints it once.
    public let permissionWarning: String?

    /// Opens (creating if needed) the database at `path` and applies pending migrations. A new
    /// database is created 0600 whatever the umask (SQLite gives its -wal and -shm files the
    /// database's mode). A read-only or locked file is a usage error naming the file.
    public init(path: String, busyTimeoutSeconds: Double = 30) throws {
        var config = Configuration()
        config.busyMode = .timeout(busyTimeoutSeconds)
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
        permissionWarning = try Self.createPrivately(path)
        do {
            writer = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(writer)
        } catch let error as DatabaseError {
            throw Self.openingError(error, path: path)
        }
        self.path = path
    }

    /// Creates a missing database file with mode 0600 (fchmod: the umask does not apply), or
    /// returns a warning when an existing one is readable by group or others.
    private static func createPrivately(_ path: String) throws -> String? {
        var info = stat()
        if stat(path, &info) == 0 {
            let mode = info.st_mode & 0o777
            guard mode & 0o077 != 0 else { return nil }
            return "\(path) is readable by other users (mode \(String(mode, radix: 8))) and holds owners' names and contacts: run 'chmod 600 \(path)*'"
        }
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { return nil }
            throw ListwiseError.usage("\(path): cannot create the database: \(String(cString: strerror(errno)))")
        }
        defer { Glibc.close(fd) }
        _ = fchmod(fd, 0o600)
        return nil
    }

    /// SQLite's errors while opening, in words a user can act on.
    private static func openingError(_ error: DatabaseError, path: String) -> Error {
        switch error.resultCode {
        case .SQLITE_NOTADB:
            return ListwiseError.usage("\(path) is not a listwise database (not an SQLite file)")
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN, .SQLITE_AUTH:
            return ListwiseError.usage("\(path): the database (or its folder, for the -wal and -shm files) is not writable by this user: check its owner and permissions (listwise needs to write it, even to read)")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return ListwiseError.usage("\(path): the database is locked by another process (an import, a refresh or an SQLite tool holding an exclusive lock): try again when it has finished")
        default:
            return error
        }
    }

    /// Applied migrations, in order; used by `status` and tests.
    public func appliedMigrations() throws -> [String] {
        try writer.read { db in try Self.migrator.appliedIdentifiers(db) }.sorted()
    }

    /// Reads in one snapshot (a read transaction).
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.read(body)
    }

    /// Reads on one of the pool's reader connections without blocking the caller's thread: for
    /// the server's requests, many at once. The read runs on a Dispatch thread, never on Swift's
    /// cooperative pool (2 threads here): with GRDB's async `read`, 64 concurrent requests
    /// deadlocked the server at 1M homes (cooperative threads blocked waiting for a reader while
    /// the readers waited for a cooperative thread). A reader is now held only while its read runs.
    func concurrentRead<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Self.readQueue.async { continuation.resume(with: Result { try self.writer.read(body) }) }
        }
    }

    private static let readQueue = DispatchQueue(label: "listwise.sqlite.reads", attributes: .concurrent)

    /// Writes in one transaction.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.write(body)
    }

    /// Writes with the writer's connection outside a transaction (for a PRAGMA that must be set
    /// outside one, around a transaction the body opens).
    func writeWithoutTransaction<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.writeWithoutTransaction(body)
    }

    /// A read-only snapshot: every read through it sees the database as it was when it was made.
    func snapshot() throws -> DatabaseSnapshot {
        guard let pool = writer as? DatabasePool else { throw ListwiseError.runtime("\(path): no snapshot of this database") }
        return try pool.makeSnapshot()
    }

    /// Checkpoints and closes the file (before it is renamed).
    func closeFile() throws {
        try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        if let pool = writer as? DatabasePool { try pool.close() }
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
