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
        return try await store.closing { try await body($0) }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}
