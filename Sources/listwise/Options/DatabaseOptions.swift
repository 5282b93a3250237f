// --db, shared by every command that opens the database.
import ArgumentParser
import Foundation
import ListwiseKit

struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("SQLite database file, or a PostgreSQL server as postgresql://user@host:port/dbname (default: $LISTWISE_DB or ./listwise.db).", valueName: "path|url"))
    var db: String?

    var path: String {
        db ?? ProcessInfo.processInfo.environment["LISTWISE_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "listwise.db"
    }

    /// The SQLite file or the PostgreSQL server `--db` names.
    func location() throws -> StoreLocation { try StoreLocation(path) }

    /// Opens the store (SQLite or PostgreSQL), runs `body` on it, and closes it.
    func withStore<T>(_ body: (any Store) async throws -> T) async throws -> T {
        let store = try await openStore(location())
        if let db = store as? AppDatabase, let warning = db.permissionWarning { Terminal.warning(warning) }
        do {
            let value = try await body(store)
            await store.close()
            return value
        } catch {
            await store.close()
            throw error
        }
    }

    /// Opens the SQLite database, for the commands that run on SQLite only so far; a PostgreSQL
    /// URL is refused with one line.
    func open() throws -> AppDatabase {
        if case .postgres(let server) = try location() {
            throw ListwiseError.usage("\(server): this command runs on an SQLite database only, so far; on PostgreSQL, 'import', 'status', 'train', 'evaluate', 'territory', 'score', 'scores' and 'export' work")
        }
        let db = try AppDatabase(path: path)
        if let warning = db.permissionWarning { Terminal.warning(warning) }
        return db
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}
