// Import into the PostgreSQL store (SPEC §1, §7): the same reader, validation, rejects file and
// summary as the SQLite import; rows go through `COPY ... FROM STDIN` into a staging table, then
// one set-based upsert, all in one transaction (a killed import leaves nothing behind).
import Foundation
import PostgresNIO

/// A valid record as one line of COPY text format (tab-separated, `\N` for NULL, backslash escapes).
struct CopyLine: RecordSink {
    private var values: [[UInt8]]
    private var present: [Bool]

    init(columns: Int) {
        values = Array(repeating: [], count: columns)
        present = Array(repeating: false, count: columns)
    }

    mutating func reset() {
        for index in values.indices {
            values[index].removeAll(keepingCapacity: true)
            present[index] = false
        }
    }

    mutating func integer(_ parameter: Int32, _ value: Int64) { set(parameter, String(value).utf8) }
    mutating func double(_ parameter: Int32, _ value: Double) { set(parameter, "\(value)".utf8) }

    mutating func text(_ parameter: Int32, _ bytes: UnsafeRawPointer, _ count: Int) {
        let index = Int(parameter) - 1
        values[index].removeAll(keepingCapacity: true)
        present[index] = true
        for byte in UnsafeRawBufferPointer(start: bytes, count: count) {
            switch byte {
            case UInt8(ascii: "\\"): values[index] += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\t"): values[index] += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case UInt8(ascii: "\n"): values[index] += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): values[index] += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            default: values[index].append(byte)
            }
        }
    }

    /// Into the column's reused buffer (no array a value).
    private mutating func set(_ parameter: Int32, _ bytes: String.UTF8View) {
        values[Int(parameter) - 1].removeAll(keepingCapacity: true)
        values[Int(parameter) - 1].append(contentsOf: bytes)
        present[Int(parameter) - 1] = true
    }

    mutating func text(_ parameter: Int32, _ string: String) {
        var string = string
        string.withUTF8 { text(parameter, $0.baseAddress!, $0.count) }
    }

    /// A value that needs no escaping (a boolean's `t` or `f`).
    mutating func literal(_ parameter: Int32, _ value: StaticString) {
        values[Int(parameter) - 1].removeAll(keepingCapacity: true)
        values[Int(parameter) - 1].append(contentsOf: UnsafeBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount))
        present[Int(parameter) - 1] = true
    }

    /// Appends `line` (the source line, the staging table's first column) and the values.
    func write(line: Int, into buffer: inout ByteBuffer) {
        buffer.writeString(String(line))
        buffer.writeInteger(UInt8(ascii: "\t"))
        writeValues(into: &buffer)
    }

    /// Appends the values alone.
    func write(into buffer: inout ByteBuffer) { writeValues(into: &buffer) }

    private func writeValues(into buffer: inout ByteBuffer) {
        for index in values.indices {
            if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            if present[index] { buffer.writeBytes(values[index]) } else { buffer.writeStaticString("\\N") }
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }
}

extension ImportSource {
    /// Whether the file's first `sample` records come in the order of the table's key (its first
    /// column, as bytes), at most 1 % stepping back: a feed sorted by property rather than by date.
    /// Only a guess, for speed: either answer imports the same rows.
    static func comesInKeyOrder(path: String, kind: ImportKind, mapping: ColumnMapping, sample: Int = 20_000) throws -> Bool {
        let source = try ImportSource(path: path, kind: kind, mapping: mapping)
        guard let spec = kind.columns.firstIndex(where: { $0.name == kind.keyColumns[0] }),
              let position = source.resolved.positions[spec] else { return false }
        let reader = source.reader
        var previous: [UInt8] = [], rows = 0, backwards = 0
        while rows < sample, try readRecord(reader, path: path) {
            guard position < reader.fields.count else { continue }
            let key = reader.bytes(position)
            if key.lexicographicallyPrecedes(previous) { backwards += 1 }
            previous.removeAll(keepingCapacity: true)
            previous.append(contentsOf: key)
            rows += 1
        }
        return rows > 0 && backwards * 100 <= rows
    }
}

extension PostgresStore {
    /// Imports `path` as `kind` (detected when nil), as `AppDatabase.importFile` does on SQLite:
    /// same refusals, rejects and summary, one transaction. Rows of unknown properties are found
    /// after the COPY (one query, not one lookup a row), so their rejects follow the others.
    public func importFile(_ path: String, kind: ImportKind? = nil, options: ImportOptions = ImportOptions(),
                           progress: ((ImportProgress) -> Void)? = nil) async throws -> ImportSummary {
        let started = Date()
        var source = try ImportSource(path: path, kind: kind, mapping: options.mapping)
        let kind = source.kind
        let fields = RecordFields(kind: kind, resolved: source.resolved, header: source.header)
        let rejects = try RejectsWriter(finalPath: options.rejectsPath ?? path + ".rejects.csv", mode: options.rejectsMode)
        let emptySummary = ImportSummary(file: path, kind: kind, rows: 0, inserted: 0, updated: 0, unchanged: 0,
                                         rejected: 0, rejectedByReason: [:], unknownColumns: source.resolved.unknown,
                                         rejectsFile: nil, importID: nil, seconds: 0)
        var summary = emptySummary
        func reject(line: Int, column: String, value: String, reason: RejectReason) throws {
            summary.rejected += 1
            summary.rejectedByReason[reason.rawValue, default: 0] += 1
            try rejects.write(file: path, line: line, column: column, value: value, reason: reason)
        }
        let columns = fields.columns
        let table = kind.table
        let logger = self.logger
        do {
            try await inTransaction { connection in
                func run(_ sql: String) async throws -> PostgresRowSequence {
                    try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                }
                /// Streams the file's valid rows through COPY into `target` (with each row's line
                /// first when `withLine`), rejecting the invalid ones; the newest event date seen.
                func copyRows(into target: String, withLine: Bool) async throws -> [UInt8] {
                    let reader = source.reader
                    var line = CopyLine(columns: columns.count)
                    var lastReport = 0
                    var newest: [UInt8] = []
                    try await connection.copyFrom(table: target, columns: (withLine ? ["line"] : []) + columns, logger: logger) { writer in
                        var buffer = ByteBuffer()
                        while try ImportSource.readRecord(reader, path: path) {
                            summary.rows += 1
                            line.reset()
                            if case .rejected(let column, let value, let reason)? = try fields.validate(
                                reader, headerCount: source.header.count, into: &line, checking: DeferredPropertyCheck()) {
                                try reject(line: reader.recordLine, column: column, value: value, reason: reason)
                            } else {
                                if withLine { line.write(line: reader.recordLine, into: &buffer) } else { line.write(into: &buffer) }
                                if let date = fields.eventDate, newest.lexicographicallyPrecedes(date) {
                                    newest.removeAll(keepingCapacity: true)
                                    newest.append(contentsOf: date)
                                }
                                if buffer.readableBytes >= 1 << 20 {
                                    try await writer.write(buffer)
                                    buffer.clear()
                                }
                            }
                            if summary.rows - lastReport >= options.progressEveryRows {
                                lastReport = summary.rows
                                progress?(ImportProgress(file: path, rows: summary.rows, bytesRead: reader.bytesConsumed, totalBytes: reader.fileSize))
                            }
                        }
                        if buffer.readableBytes > 0 { try await writer.write(buffer) }
                    }
                    guard summary.rows > 0 else {
                        throw ListwiseError.usage("\(path): empty file (a header but no data rows)")
                    }
                    return newest
                }
                // One import of a table at a time (readers go on): the counts below compare with
                // the stored rows, and an empty table stays empty until this one commits.
                _ = try await run("LOCK TABLE \(table) IN SHARE ROW EXCLUSIVE MODE")
                var tableIsEmpty = false
                for try await empty in try await run("SELECT NOT EXISTS (SELECT 1 FROM \(table))").decode(Bool.self) { tableIsEmpty = empty }
                var newest: String?
                // A first load of a file in key order (a feed sorted by property) goes straight
                // into the table, as psql's \copy would; each row appends to the key's index.
                // Should the file repeat a key (a unique violation) or name homes the store lacks,
                // the load rolls back to the savepoint and the file is read again on the staged
                // path, which counts repeats and writes rejects with their lines. (At 1M homes
                // in property order the staged path cost 1.72x psql's \copy.)
                var loaded = false
                if tableIsEmpty, try ImportSource.comesInKeyOrder(path: path, kind: kind, mapping: options.mapping) {
                    _ = try await run("SAVEPOINT listwise_direct_load")
                    do {
                        let newestDate = try await copyRows(into: table, withLine: false)
                        var staged = false   // a home the store lacks, or a prospect at two homes: the staged path
                        if fields.propertyColumn != nil {
                            // A count, not EXISTS: EXISTS plans a nested loop of index probes for
                            // the first row (5.1 s on 1.6M events, against 0.3 s hashed), and the
                            // two tables' partitions pair up (both hashed by property_id).
                            _ = try await run("SET LOCAL enable_partitionwise_join = on")
                            for try await count in try await run("""
                                SELECT count(*)::bigint FROM \(table) s WHERE NOT EXISTS (SELECT 1 FROM properties p WHERE p.property_id = s.property_id)
                                """).decode(Int.self) {
                                staged = count > 0
                            }
                        }
                        // Prospects are kept by (home, prospect) but a file's key is the prospect
                        // alone: one listed at two homes violates no key of the table.
                        if kind == .prospects, !staged {
                            for try await count in try await run("""
                                SELECT count(*)::bigint FROM (SELECT prospect_id FROM prospects GROUP BY prospect_id HAVING count(*) > 1) repeated
                                """).decode(Int.self) {
                                staged = count > 0
                            }
                        }
                        if !staged {
                            _ = try await run("RELEASE SAVEPOINT listwise_direct_load")
                            summary.inserted = summary.rows - summary.rejected
                            if kind == .events, !newestDate.isEmpty { newest = String(decoding: newestDate, as: UTF8.self) }
                            loaded = true
                        }
                    } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                    }
                    if !loaded {
                        _ = try await run("ROLLBACK TO SAVEPOINT listwise_direct_load")
                        rejects.discard()
                        summary = emptySummary
                        source = try ImportSource(path: path, kind: kind, mapping: options.mapping)
                    }
                }
                if !loaded {
                    _ = try await run("""
                        CREATE TEMP TABLE staging ON COMMIT DROP AS
                        SELECT 0::bigint AS line, \(columns.joined(separator: ", ")) FROM \(table) WITH NO DATA
                        """)
                    _ = try await copyRows(into: "staging", withLine: true)
                    if let propertyColumn = fields.propertyColumn {
                        let header = source.header[fields.positions[propertyColumn]!]
                        for try await (line, id) in try await run("""
                            DELETE FROM staging s WHERE NOT EXISTS (SELECT 1 FROM properties p WHERE p.property_id = s.property_id)
                            RETURNING line, property_id
                            """).decode((Int, String).self) {
                            try reject(line: line, column: header, value: id, reason: .unknownPropertyID)
                        }
                    }
                    // Counted as the SQLite import counts them, row by row in file order: the first row
                    // of a key against the stored row (inserted, updated, unchanged), a repeat against
                    // the row before it (the last one wins).
                    let keys = kind.keyColumns
                    let updatable = columns.filter { !keys.contains($0) }
                    let list = { (alias: String, names: [String]) in names.map { "\(alias).\($0)" }.joined(separator: ", ") }
                    let keyList = keys.joined(separator: ", ")
                    // A first load into an empty table whose file repeats no key (the usual case) is
                    // one INSERT in key order; a repeated key (a unique violation) rolls it back to
                    // the savepoint and the general path below runs. (Measured at 1M homes: the
                    // general path's sort that finds repeats took 77 s of the events file's 206 s.)
                    // Not for prospects: one listed at two homes violates no key of the store.
                    if tableIsEmpty, kind != .prospects {
                        _ = try await run("SAVEPOINT listwise_first_load")
                        do {
                            for try await _ in try await run("""
                                INSERT INTO \(table) (\(columns.joined(separator: ", "))) SELECT \(columns.joined(separator: ", ")) FROM staging ORDER BY \(keyList)
                                """) {}
                            _ = try await run("RELEASE SAVEPOINT listwise_first_load")
                            summary.inserted += summary.rows - summary.rejected
                            loaded = true
                        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                            _ = try await run("ROLLBACK TO SAVEPOINT listwise_first_load")
                        }
                    }
                    if !loaded {
                        // One sort of the staged rows by key (then line): each row learns whether it is the
                        // first or the last of its key and whether it repeats the row before it with other
                        // values. The rows come out in key order, so the writes below walk the table's key
                        // index forward whatever the file's order (a county feed arrives by date). (Three
                        // passes, a window count, a DISTINCT ON join and a windowed DELETE, took 11.4 s of
                        // the 100k county's 29.7 s events import; this one pass about 4 s.)
                        let row = "ROW(\(columns.joined(separator: ", ")))"
                        _ = try await run("""
                            CREATE TEMP TABLE ranked ON COMMIT DROP AS
                            SELECT \(columns.joined(separator: ", ")), row_number() OVER w = 1 AS first, row_number() OVER w = count(*) OVER k AS last,
                                   lag(line) OVER w IS NOT NULL AS repeat, lag(\(row)) OVER w IS DISTINCT FROM \(row) AS changed
                            FROM staging WINDOW k AS (PARTITION BY \(keyList)), w AS (PARTITION BY \(keyList) ORDER BY line)
                            ORDER BY \(keyList), line
                            """)
                        for try await (updated, unchanged) in try await run("""
                            SELECT count(*) FILTER (WHERE repeat AND changed)::bigint, count(*) FILTER (WHERE repeat AND NOT changed)::bigint FROM ranked
                            """).decode((Int, Int).self) {
                            summary.updated += updated
                            summary.unchanged += unchanged
                        }
                        // The first row of each key against the stored one; all new when the table is empty.
                        if tableIsEmpty {
                            for try await firsts in try await run("SELECT count(*)::bigint FROM ranked WHERE first").decode(Int.self) {
                                summary.inserted += firsts
                            }
                        } else {
                            let differs = updatable.isEmpty ? "false" : "(\(list("s", updatable))) IS DISTINCT FROM (\(list("t", updatable)))"
                            for try await (inserted, updated, unchanged) in try await run("""
                                SELECT count(*) FILTER (WHERE t.\(keys[0]) IS NULL)::bigint,
                                       count(*) FILTER (WHERE t.\(keys[0]) IS NOT NULL AND \(differs))::bigint,
                                       count(*) FILTER (WHERE t.\(keys[0]) IS NOT NULL AND NOT \(differs))::bigint
                                FROM ranked s LEFT JOIN \(table) t ON \(keys.map { "t.\($0) = s.\($0)" }.joined(separator: " AND "))
                                WHERE s.first
                                """).decode((Int, Int, Int).self) {
                                summary.inserted += inserted
                                summary.updated += updated
                                summary.unchanged += unchanged
                            }
                        }
                        // Then the writes, the last row of each key: a moved prospect taken from its old home
                        // (the PostgreSQL key is (property_id, prospect_id)), then one plain INSERT into an
                        // empty table (the table lock keeps it empty) or one upsert.
                        if kind == .prospects, !tableIsEmpty {
                            _ = try await run("""
                                DELETE FROM prospects p USING ranked s WHERE s.last AND p.prospect_id = s.prospect_id AND p.property_id <> s.property_id
                                """)
                        }
                        let storeKeys = kind == .prospects ? ["property_id", "prospect_id"] : keys
                        let storeUpdatable = columns.filter { !storeKeys.contains($0) }
                        var upsert = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) SELECT \(columns.joined(separator: ", ")) FROM ranked WHERE last "
                        if tableIsEmpty {
                        } else if storeUpdatable.isEmpty {
                            upsert += "ON CONFLICT DO NOTHING"
                        } else {
                            let set = storeUpdatable.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
                            upsert += "ON CONFLICT (\(storeKeys.joined(separator: ", "))) DO UPDATE SET \(set) "
                                + "WHERE (\(list(table, storeUpdatable))) IS DISTINCT FROM (\(list("EXCLUDED", storeUpdatable)))"
                        }
                        _ = try await run(upsert)
                    }
                    if kind == .events {
                        for try await date in try await run("SELECT max(event_date)::text FROM staging").decode(String?.self) { newest = date }
                    }
                }
                summary.seconds = Date().timeIntervalSince(started)
                let sha = source.reader.checksumHex()
                let rows = summary.rows, inserted = summary.inserted, updated = summary.updated
                let unchanged = summary.unchanged, rejected = summary.rejected
                for try await id in try await connection.query("""
                    INSERT INTO imports (kind, file, sha256, started_at, finished_at, rows, inserted, updated, unchanged, rejected, newest_event_date)
                    VALUES (\(kind.rawValue), \(path), \(sha), \(started), \(Date()), \(rows), \(inserted), \(updated), \(unchanged), \(rejected), \(newest)::date)
                    RETURNING id
                    """, logger: logger).decode(Int64.self) {
                    summary.importID = id
                }
            }
        } catch {
            rejects.discard()
            throw describe(error)
        }
        summary.rejectsFile = try rejects.commit()
        progress?(ImportProgress(file: path, rows: summary.rows, bytesRead: source.reader.fileSize, totalBytes: source.reader.fileSize))
        return summary
    }
}
