// `listwise db copy` (SPEC §7): a whole store moved from SQLite to PostgreSQL or back, table by
// table in key order, into an empty target, in one transaction on the target (a failed or
// killed copy leaves the target empty). Values keep their exact meaning across the engines:
// doubles in their shortest round-trip form, booleans 0/1, dates and timestamps as text.
import Foundation
import GRDB
import PostgresNIO

public struct StoreCopySummary: Equatable, Sendable {
    /// Rows copied per table, in copy order.
    public var rows: [String: Int] = [:]
}

public enum StoreCopy {
    /// Every table of the schema, referenced tables first.
    static let tables = ["properties", "owners", "prospects", "events", "imports", "territories", "score_runs", "scores",
                         "campaigns", "exports", "contact_history", "suppressions", "refresh_runs", "api_keys"]
    /// The tables whose `id` the server generates, its sequence moved past the copied ids.
    static let identityTables = ["imports", "score_runs", "exports", "refresh_runs"]

    /// The SQLite columns of `table` with their declared types.
    static func sqliteColumns(_ db: Database, _ table: String) throws -> [(name: String, type: String)] {
        try Row.fetchAll(db, sql: "SELECT name, upper(type) AS type FROM pragma_table_info(?) ORDER BY cid", arguments: [table])
            .map { ($0["name"], $0["type"]) }
    }

    private static func refuseNonEmpty(_ counts: [String: Int], target: String) throws {
        let filled = tables.filter { counts[$0, default: 0] > 0 }
        guard filled.isEmpty else {
            throw ListwiseError.usage("\(target) is not empty (\(filled.map { "\($0): \(counts[$0]!)" }.joined(separator: ", "))): copy into a new, empty store")
        }
    }

    // MARK: - SQLite to PostgreSQL

    /// Copies every table of `source` into the empty server store `target` through COPY, in
    /// one server transaction. The SQLite side is read from one snapshot, in batches by key.
    public static func copy(from source: AppDatabase, to target: PostgresStore,
                            progress: ((String, Int) -> Void)? = nil) async throws -> StoreCopySummary {
        try refuseNonEmpty(try await target.tableCounts(tables), target: target.location.description)
        let snapshot = try source.snapshot()
        var summary = StoreCopySummary()
        let logger = target.logger
        do {
            try await target.inTransaction { connection in
                for table in tables {
                    let columns = try syncRead(snapshot) { try sqliteColumns($0, table) }
                    // The server's history carries each prospect's home (its distribution key).
                    let select = table == "contact_history"
                        ? KeysetSelect(expressions: ["coalesce(h.property_id, p.property_id, '')", "h.export_id", "h.prospect_id", "h.held_out"],
                                       from: "contact_history h LEFT JOIN prospects p ON p.prospect_id = h.prospect_id",
                                       key: ["h.export_id", "h.prospect_id"], keyPositions: [1, 2])
                        : KeysetSelect(table: table, columns: columns.map(\.name), key: try syncRead(snapshot) { try primaryKey($0, table) })
                    let targetColumns = table == "contact_history" ? ["property_id", "export_id", "prospect_id", "held_out"] : columns.map(\.name)
                    var count = 0
                    try await connection.copyFrom(table: table, columns: targetColumns, logger: logger) { writer in
                        var line = CopyLine(columns: targetColumns.count)
                        var after: [DatabaseValue]?
                        while true {
                            let start = after
                            let rows = try syncRead(snapshot) { db in try select.batch(db, after: start, limit: 20_000) }
                            guard let last = rows.last else { break }
                            var buffer = ByteBuffer()
                            for values in rows {
                                line.reset()
                                for (index, value) in values.enumerated() {
                                    let parameter = Int32(index + 1)
                                    switch value.storage {
                                    case .null: break
                                    case .int64(let number): line.integer(parameter, number)
                                    case .double(let number): line.double(parameter, number)
                                    case .string(let text): line.text(parameter, text)
                                    case .blob(let data): line.text(parameter, String(decoding: data, as: UTF8.self))
                                    }
                                }
                                line.write(into: &buffer)
                            }
                            try await writer.write(buffer)
                            count += rows.count
                            progress?(table, count)
                            after = select.keyPositions.map { last[$0] }
                        }
                    }
                    summary.rows[table] = count
                }
                for table in identityTables {
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        SELECT setval(pg_get_serial_sequence('\(table)', 'id'), coalesce(max(id), 0) + 1, false) FROM \(table)
                        """), logger: logger)
                }
            }
        } catch {
            throw target.describe(error)
        }
        return summary
    }

    /// GRDB's blocking read (in an async function the compiler would pick its async one).
    static func syncRead<T>(_ snapshot: DatabaseSnapshot, _ body: (Database) throws -> T) throws -> T {
        try snapshot.read(body)
    }

    /// The primary-key columns of an SQLite table, in key order.
    static func primaryKey(_ db: Database, _ table: String) throws -> [String] {
        try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", arguments: [table]).map { $0["name"] }
    }

    // MARK: - PostgreSQL to SQLite

    /// Copies every table of the server store `source` into a new SQLite file at `path` (none
    /// there yet, or an empty store): written as `path` + ".copying" and renamed into place at
    /// the end, the server read in one repeatable-read transaction through a cursor.
    public static func copy(from source: PostgresStore, toSQLiteAt path: String,
                            progress: ((String, Int) -> Void)? = nil) async throws -> StoreCopySummary {
        if FileManager.default.fileExists(atPath: path) {
            let existing = try AppDatabase(path: path)
            try refuseNonEmpty(try existing.tableCounts(tables), target: path)
            try existing.closeFile()
        }
        let temporary = path + ".copying"
        for suffix in ["", "-wal", "-shm"] { unlink(temporary + suffix) }
        var summary = StoreCopySummary()
        do {
            let target = try AppDatabase(path: temporary)
            let columnsByTable = try target.read { db in try tables.map { try sqliteColumns(db, $0) } }
            try await source.inTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
                try await connection.query("SET LOCAL DateStyle = ISO", logger: source.logger)
                for (table, columns) in zip(tables, columnsByTable) {
                    let serverTypes = try await source.columnTypes(table)
                    // Each column as text SQLite reads back exactly: booleans as 0/1, times as listwise writes them.
                    let expressions = columns.map { column -> String in
                        switch serverTypes[column.name] {
                        case "boolean": return "\(column.name)::int::text"
                        case "timestamp with time zone": return PostgresStore.timestampText(column.name)
                        default: return "\(column.name)::text"
                        }
                    }
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        DECLARE listwise_copy NO SCROLL CURSOR FOR SELECT \(expressions.joined(separator: ", ")) FROM \(table)
                        """), logger: source.logger)
                    let sql = "INSERT INTO \(table) (\(columns.map(\.name).joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
                    var count = 0
                    while true {
                        var batch: [[RawStatement.Value]] = []
                        for try await row in try await connection.query("FETCH 20000 FROM listwise_copy", logger: source.logger) {
                            var values: [RawStatement.Value] = []
                            for (cell, column) in zip(row, columns) {
                                let text = try cell.decode(String?.self)
                                switch column.type {
                                case _ where text == nil: values.append(.text(nil))
                                case "INTEGER": values.append(.integer(Int(text!)))
                                case "REAL": values.append(.double(Double(text!)))
                                default: values.append(.text(text))
                                }
                            }
                            batch.append(values)
                        }
                        if batch.isEmpty { break }
                        try target.insertRows(sql: sql, batch)
                        count += batch.count
                        progress?(table, count)
                    }
                    try await connection.query("CLOSE listwise_copy", logger: source.logger)
                    summary.rows[table] = count
                }
            }
            // score_ranks is SQLite's own (the server has an index): derived from the copied scores.
            try target.fillScoreRanks()
            try target.closeFile()
            guard rename(temporary, path) == 0 else {
                throw ListwiseError.runtime("cannot move \(temporary) to \(path): \(String(cString: strerror(errno)))")
            }
            for suffix in ["-wal", "-shm"] { unlink(path + suffix) }
        } catch {
            for suffix in ["", "-wal", "-shm"] { unlink(temporary + suffix) }
            throw source.describe(error)
        }
        return summary
    }
}

/// One batch after another of a table's rows in key order (keyset paging: each batch starts
/// after the last key of the one before, so no batch rescans the rows before it).
struct KeysetSelect {
    var expressions: [String]
    var from: String
    var key: [String]
    /// Where the key columns are among `expressions`.
    var keyPositions: [Int]

    init(expressions: [String], from: String, key: [String], keyPositions: [Int]) {
        (self.expressions, self.from, self.key, self.keyPositions) = (expressions, from, key, keyPositions)
    }

    init(table: String, columns: [String], key: [String]) {
        self.init(expressions: columns, from: table, key: key, keyPositions: key.map { columns.firstIndex(of: $0)! })
    }

    func batch(_ db: Database, after: [DatabaseValue]?, limit: Int) throws -> [[DatabaseValue]] {
        let list = "(\(key.joined(separator: ", ")))"
        let condition = after == nil ? "" : " WHERE \(list) > (\(key.map { _ in "?" }.joined(separator: ", ")))"
        let sql = "SELECT \(expressions.joined(separator: ", ")) FROM \(from)\(condition) ORDER BY \(key.joined(separator: ", ")) LIMIT \(limit)"
        return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(after ?? [])).map { Array($0.databaseValues) }
    }
}

extension PostgresStore {
    func tableCounts(_ tables: [String]) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in tables {
            for try await count in try await query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))
                .decode(Int.self) {
                counts[table] = count
            }
        }
        return counts
    }

    /// The server's data type of each column of `table`.
    func columnTypes(_ table: String) async throws -> [String: String] {
        var types: [String: String] = [:]
        for try await (column, type) in try await query("""
            SELECT column_name::text, data_type::text FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table)
            """).decode((String, String).self) {
            types[column] = type
        }
        return types
    }
}
