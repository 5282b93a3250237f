// Validates one CSV record against a kind's columns and upserts it with a reused prepared
// statement, bound straight from the reader's buffer (`RawStatement`: measured on this machine
// 260–310k rows/s against 110–146k rows/s through GRDB's StatementArguments).
import GRDB

enum RowOutcome {
    /// Inserted, or an existing row updated to new values.
    case changed
    /// Identical to the row already stored.
    case unchanged
    case rejected(column: String, value: String, reason: RejectReason)
    /// Out of key order: written to the staging table, merged at the end.
    case staged
}

final class RowLoader: PropertyCheck {
    private let fields: RecordFields
    private let kind: ImportKind
    private let statement: RawStatement
    /// The staging table's insert, and the statement that merges it into the table.
    private let staging: RawStatement
    private let mergeSQL: String
    private let key: KeyCapture
    /// Rows written to the staging table (out of key order).
    private(set) var stagedRows = 0
    /// `SELECT 1 FROM properties WHERE property_id = ?`, for kinds that reference a property.
    private let propertyLookup: RawStatement?
    /// The last property_id found to exist: files are usually grouped by property, so one
    /// lookup serves a run of rows (16M events: 1M lookups instead of 16M foreign-key checks;
    /// events import went from 308k to 420k rows/s with the other changes of that commit).
    private var lastKnownProperty: [UInt8] = []
    /// Every property id, read once when the input turns out not to be grouped by property (its
    /// `idSetAfterStagedRows`-th out-of-order row): then a lookup a row in the properties index
    /// lands on a random page, and was 55 % of a date-ordered owners import (2.65M rows: 17.4 s,
    /// against 7.1 s in property order). About 32 bytes a home.
    private var knownProperties: Set<String>?
    private let idSetAfterStagedRows: Int
    private let db: Database
    /// The latest event_date among the rows loaded (events only): read by `score` to warn when
    /// its as-of date is far past the data, without scanning 16M events (a max() scan, ~0.8 s at 1M homes).
    private(set) var newestEventDate: [UInt8] = []

    /// Binds a record's values straight from the reader's buffer (not copied: a statement is
    /// stepped before the reader moves on), to the table's upsert and to the staging insert
    /// alike (which one runs is decided after validation), and keeps the key's text values.
    private struct Binder: RecordSink {
        let statement: RawStatement
        let staging: RawStatement
        let key: KeyCapture
        func integer(_ parameter: Int32, _ value: Int64) {
            statement.bind(parameter, value)
            staging.bind(parameter, value)
        }
        func double(_ parameter: Int32, _ value: Double) {
            statement.bind(parameter, value)
            staging.bind(parameter, value)
        }
        func text(_ parameter: Int32, _ bytes: UnsafeRawPointer, _ count: Int) {
            statement.bind(parameter, unsafeBytes: bytes, count: count)
            staging.bind(parameter, unsafeBytes: bytes, count: count)
            key.capture(parameter, bytes, count)
        }
    }

    /// The value of the key's first column (text) of the current record, and of the last record
    /// written straight to the table.
    final class KeyCapture {
        /// The parameter index of the key's first column.
        let parameter: Int32
        var current: [UInt8] = []
        var lastDirect: [UInt8]?

        init(parameter: Int32) { self.parameter = parameter }

        func reset() { current.removeAll(keepingCapacity: true) }

        func capture(_ parameter: Int32, _ bytes: UnsafeRawPointer, _ count: Int) {
            guard parameter == self.parameter else { return }
            current.append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: count))
        }

        /// Whether the current record sorts at or after the last one written to the table (so
        /// that writing it there appends to the B-tree); remembered when it does.
        func followsLastDirect() -> Bool {
            if let last = lastDirect, current.lexicographicallyPrecedes(last) { return false }
            // In place: assigning `current` would share its buffer, and the next reset would copy it.
            if lastDirect == nil { lastDirect = [] }
            lastDirect!.replaceSubrange(0..., with: current)
            return true
        }
    }

    init(kind: ImportKind, resolved: ResolvedColumns, header: [String], db: Database, idSetAfterStagedRows: Int = 10_000) throws {
        self.kind = kind
        self.idSetAfterStagedRows = idSetAfterStagedRows
        self.db = db
        fields = RecordFields(kind: kind, resolved: resolved, header: header)
        let columns = fields.columns
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ",")
        var sql = ""
        let keys = kind.keyColumns
        let updatable = columns.filter { !keys.contains($0) }
        if updatable.isEmpty {
            sql += "ON CONFLICT DO NOTHING"
        } else {
            // Update only the columns the file has, and only when a value differs, so that the
            // connection's total changes tell changed rows from unchanged ones.
            let set = updatable.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
            let old = updatable.map { "\(kind.table).\($0)" }.joined(separator: ", ")
            let new = updatable.map { "excluded.\($0)" }.joined(separator: ", ")
            sql += "ON CONFLICT (\(keys.joined(separator: ","))) DO UPDATE SET \(set) WHERE (\(old)) IS NOT (\(new))"
        }
        let conflictClause = sql
        sql = "INSERT INTO \(kind.table) (\(columns.joined(separator: ","))) VALUES (\(placeholders)) " + conflictClause
        statement = try RawStatement(db, sql: sql, persistent: true)
        propertyLookup = fields.propertyColumn == nil ? nil
            : try RawStatement(db, sql: "SELECT 1 FROM properties WHERE property_id = ?", persistent: true)
        // Rows that arrive out of key order (a feed ordered by date) wait in an unindexed staging
        // table, in file order, and go into the table sorted by key at the end: written as they
        // came, each lands on a random page of the (property, date)-keyed B-tree and the page cache
        // thrashes (16.6M date-ordered events: 330-360 s against 56 s in property order).
        try db.execute(sql: "DROP TABLE IF EXISTS temp.import_staging")
        try db.execute(sql: "CREATE TEMP TABLE import_staging (seq INTEGER PRIMARY KEY, \(columns.joined(separator: ", ")))")
        staging = try RawStatement(db, sql: "INSERT INTO temp.import_staging (\(columns.joined(separator: ","))) VALUES (\(placeholders))",
                                   persistent: true)
        // Sorted by the key's columns, then file order (the last of a key's rows wins, as when
        // rows are written one by one). `WHERE true`: SQLite's parser needs it before ON CONFLICT.
        let sortKeys = keys.filter(columns.contains) + ["seq"]
        mergeSQL = "INSERT INTO \(kind.table) (\(columns.joined(separator: ","))) SELECT \(columns.joined(separator: ",")) "
            + "FROM temp.import_staging WHERE true ORDER BY \(sortKeys.joined(separator: ",")) " + conflictClause
        // The key's first column (the property, or the prospect) decides whether a row follows
        // the last one written: rows of one property sit on one or two pages whatever their
        // order, and a feed ordered by property but not by date within it (a SALE and its
        // MORTGAGE of one day) goes straight in, without staging or sorting.
        key = KeyCapture(parameter: Int32(columns.firstIndex(of: keys[0])! + 1))
    }

    /// Reads every property id into `knownProperties` (the properties table does not change
    /// during an import of another kind).
    private func readPropertyIDs() throws {
        var ids = Set<String>(minimumCapacity: try Int.fetchOne(db, sql: "SELECT count(*) FROM properties") ?? 0)
        let statement = try RawStatement(db, sql: "SELECT property_id FROM properties")
        while try statement.step() {
            if let id = statement.text(0) { ids.insert(id) }
        }
        knownProperties = ids
    }

    /// Writes the staged rows into the table in key order and drops the staging table; returns
    /// how many of them changed the table and how many did not.
    func mergeStaged(_ db: Database) throws -> (changed: Int, unchanged: Int) {
        defer { try? db.execute(sql: "DROP TABLE IF EXISTS temp.import_staging") }
        guard stagedRows > 0 else { return (0, 0) }
        let before = statement.totalChanges
        // The sort is most of the merge: SQLite's sorter may use a second thread for its runs.
        // Its memory follows the page cache's size, a run per thread: a smaller cache meanwhile
        // keeps the import's peak where it was with one thread.
        try db.execute(sql: "PRAGMA threads = 2; PRAGMA cache_size = -32768")
        defer { try? db.execute(sql: "PRAGMA threads = 0; PRAGMA cache_size = -65536") }
        try db.execute(sql: mergeSQL)
        let changed = Int(statement.totalChanges - before)
        return (changed, stagedRows - changed)
    }

    /// Whether `id` names a stored property (the foreign-key check, done here; see `lastKnownProperty`).
    func exists(_ id: UnsafeBufferPointer<UInt8>) throws -> Bool {
        if id.elementsEqual(lastKnownProperty) { return true }
        guard let propertyLookup else { return true }
        if let knownProperties {
            guard knownProperties.contains(String(decoding: id, as: UTF8.self)) else { return false }
            lastKnownProperty.removeAll(keepingCapacity: true)
            lastKnownProperty.append(contentsOf: id)
            return true
        }
        propertyLookup.bind(1, unsafeBytes: id.baseAddress!, count: id.count)
        defer { propertyLookup.reset() }
        guard try propertyLookup.step() else { return false }
        lastKnownProperty.removeAll(keepingCapacity: true)
        lastKnownProperty.append(contentsOf: id)
        return true
    }

    /// Validates the reader's current record and upserts it, or stages it when it arrives out
    /// of key order (`.staged`: its outcome is known when `mergeStaged` runs).
    func load(_ reader: CSVReader, headerCount: Int) throws -> RowOutcome {
        statement.clearBindings()
        staging.clearBindings()
        key.reset()
        var binder = Binder(statement: statement, staging: staging, key: key)
        if let rejected = try fields.validate(reader, headerCount: headerCount, into: &binder, checking: self) {
            return rejected
        }
        // In place: in a feed ordered by date nearly every row is the newest so far.
        if let date = fields.eventDate, newestEventDate.lexicographicallyPrecedes(date) {
            newestEventDate.removeAll(keepingCapacity: true)
            newestEventDate.append(contentsOf: date)
        }
        let direct = key.followsLastDirect()
        let target = direct ? statement : staging
        let before = statement.totalChanges
        defer { target.reset() }
        do {
            while try target.step() {}
        } catch {
            throw ListwiseError.runtime("\(reader.path):\(reader.recordLine): database error: \(error)")
        }
        guard direct else {
            stagedRows += 1
            if stagedRows == idSetAfterStagedRows, propertyLookup != nil { try readPropertyIDs() }
            return .staged
        }
        return statement.totalChanges > before ? .changed : .unchanged
    }
}
