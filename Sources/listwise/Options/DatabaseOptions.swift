// --db, shared by every command that opens the database.
import ArgumentParser
import Foundation
import ListwiseKit

struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("SQLite database file (default: $LISTWISE_DB or ./listwise.db).", valueName: "path"))
    var db: String?

    var path: String {
        db ?? ProcessInfo.processInfo.environment["LISTWISE_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "listwise.db"
    }

    func open() throws -> AppDatabase {
        let db = try AppDatabase(path: path)
        if let warning = db.permissionWarning { Terminal.warning(warning) }
        return db
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}
