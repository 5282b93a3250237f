// `listwise db copy`: moves a whole store between SQLite and PostgreSQL (SPEC §7).
import ArgumentParser
import Foundation
import ListwiseKit

struct DbCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage stores: copy one between SQLite and PostgreSQL.",
        subcommands: [Copy.self]
    )

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a whole store from SQLite to PostgreSQL, or back.",
            discussion: """
                Reads every table of --from and writes it into --to, which must be empty (a new database on the \
                server; a new file, or an empty store). One transaction on a server: a failed copy leaves it empty; \
                a file is written beside its name and renamed into place at the end. Streams in batches: memory does \
                not grow with the store. Values keep their exact meaning (doubles, dates, times, JSON).

                Example:
                  createdb -h db.example.com -U ann county
                  listwise db copy --from listwise.db --to postgresql://ann@db.example.com/county

                Exit codes: 0 ok; 2 a non-empty target, two stores of one kind, or an unreachable server; 1 other failure.
                """
        )

        @Option(help: ArgumentHelp("The store to read: an SQLite file or postgresql://user@host:port/dbname.", valueName: "path|url"))
        var from: String
        @Option(help: ArgumentHelp("The empty store to fill: the other kind.", valueName: "path|url"))
        var to: String

        func run() async throws {
            let started = Date()
            let progress: (String, Int) -> Void = { table, rows in Terminal.progress("copying \(table): \(rows.grouped) rows") }
            let summary: StoreCopySummary
            switch (try StoreLocation(from), try StoreLocation(to)) {
            case (.sqlite(let path), .postgres(let server)):
                guard FileManager.default.fileExists(atPath: path) else { throw ListwiseError.usage("\(path): no such database file") }
                let source = try AppDatabase(path: path)
                summary = try await PostgresStore.open(server).closing { try await StoreCopy.copy(from: source, to: $0, progress: progress) }
            case (.postgres(let server), .sqlite(let path)):
                summary = try await PostgresStore.open(server).closing { try await StoreCopy.copy(from: $0, toSQLiteAt: path, progress: progress) }
            case (.sqlite, .sqlite):
                throw ListwiseError.usage("both stores are SQLite files: copy the file itself (with 'sqlite3 \(from) \".backup \(to)\"')")
            case (.postgres, .postgres):
                throw ListwiseError.usage("both stores are PostgreSQL databases: use pg_dump and pg_restore between servers")
            }
            Terminal.endProgress()
            let total = summary.rows.values.reduce(0, +)
            Terminal.line("copied \(total.grouped) rows from \(from.hasPrefix("postgres") ? (try? PostgresLocation(url: from).description) ?? "the server" : from) to "
                          + "\(to.hasPrefix("postgres") ? (try? PostgresLocation(url: to).description) ?? "the server" : to)"
                          + String(format: " in %.1f s", Date().timeIntervalSince(started)))
            for (table, rows) in summary.rows.sorted(by: { $0.key < $1.key }) where rows > 0 {
                Terminal.line("  \(table): \(rows.grouped)")
            }
        }
    }
}
