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
    /// Out of key order: kept in `StagedRows`, merged at the end.
    case staged
}

final class RowLoader: PropertyCheck {
    private let fields: RecordFields
    private let kind: ImportKind
    private let statement: RawStatement
    /// The current record's values and key.
    private let pending: PendingRecord
    /// Rows that came out of key order, sorted at the end (`mergeStaged`).
    private let staged: StagedRows
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
    /// stepped before the reader moves on) and keeps them in `pending`, for the staged rows.
    private struct Binder: RecordSink {
        let statement: RawStatement
        let pending: PendingRecord
        func integer(_ parameter: Int32, _ value: Int64) {
            statement.bind(parameter, value)
            pending.add(PendingField(parameter: parameter, kind: .integer, bits: UInt64(bitPattern: value), bytes: nil, count: 0))
        }
        func double(_ parameter: Int32, _ value: Double) {
            statement.bind(parameter, value)
            pending.add(PendingField(parameter: parameter, kind: .double, bits: value.bitPattern, bytes: nil, count: 0))
        }
        func text(_ parameter: Int32, _ bytes: UnsafeRawPointer, _ count: Int) {
            statement.bind(parameter, unsafeBytes: bytes, count: count)
            pending.add(PendingField(parameter: parameter, kind: .text, bits: 0, bytes: bytes, count: count))
        }
    }

    /// The values of the record being loaded (pointing into the reader's buffer), the value of
    /// the key's first column (text), and that of the last record written straight to the table.
    final class PendingRecord {
        /// The parameter index of the key's first column.
        let keyParameter: Int32
        let fields: UnsafeMutablePointer<PendingField>
        private let capacity: Int
        private(set) var count = 0
        private(set) var key = UnsafeRawBufferPointer(start: nil, count: 0)
        private var lastDirect: [UInt8]?

        init(keyParameter: Int32, capacity: Int) {
            self.keyParameter = keyParameter
            self.capacity = capacity
            fields = .allocate(capacity: capacity)
        }

        deinit { fields.deallocate() }

        func reset() {
            count = 0
            key = UnsafeRawBufferPointer(start: nil, count: 0)
        }

        func add(_ field: PendingField) {
            precondition(count < capacity, "more values than columns")
            fields[count] = field
            count += 1
            if field.parameter == keyParameter { key = UnsafeRawBufferPointer(start: field.bytes, count: field.count) }
        }

        /// Whether the current record sorts at or after the last one written to the table (so
        /// that writing it there appends to the B-tree); remembered when it does.
        func followsLastDirect() -> Bool {
            if let last = lastDirect, key.lexicographicallyPrecedes(last) { return false }
            if lastDirect == nil { lastDirect = [] }
            lastDirect!.replaceSubrange(0..., with: key)
            return true
        }
    }

    init(kind: ImportKind, resolved: ResolvedColumns, header: [String], db: Database, idSetAfterStagedRows: Int = 10_000,
         stagingRunBytes: Int = 32 << 20) throws {
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
        sql = "INSERT INTO \(kind.table) (\(columns.joined(separator: ","))) VALUES (\(placeholders)) " + sql
        statement = try RawStatement(db, sql: sql, persistent: true)
        propertyLookup = fields.propertyColumn == nil ? nil
            : try RawStatement(db, sql: "SELECT 1 FROM properties WHERE property_id = ?", persistent: true)
        // Rows that arrive out of key order (a feed ordered by date) wait in `StagedRows` and go
        // into the table sorted by key at the end. The key's first column (the property, or the
        // prospect) decides whether a row follows the last one written: rows of one property
        // sit on one or two pages whatever their order, and a feed ordered by property but not
        // by date within it (a SALE and its MORTGAGE of one day) goes straight in, unsorted.
        pending = PendingRecord(keyParameter: Int32(columns.firstIndex(of: keys[0])! + 1), capacity: columns.count + 1)
        staged = StagedRows(runBytes: stagingRunBytes)
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

    /// Writes the staged rows into the table in key order (the last of a key's rows wins, as
    /// when rows are written one by one); returns how many of them changed the table and how
    /// many did not.
    func mergeStaged(path: String) throws -> (changed: Int, unchanged: Int) {
        guard stagedRows > 0 else { return (0, 0) }
        let before = statement.totalChanges
        try staged.merge { record in
            statement.clearBindings()
            record.bind(to: statement)
            defer { statement.reset() }
            do {
                while try statement.step() {}
            } catch {
                throw ListwiseError.runtime("\(path):\(record.line): database error: \(error)")
            }
        }
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
        pending.reset()
        var binder = Binder(statement: statement, pending: pending)
        if let rejected = try fields.validate(reader, headerCount: headerCount, into: &binder, checking: self) {
            return rejected
        }
        // In place: in a feed ordered by date nearly every row is the newest so far.
        if let date = fields.eventDate, newestEventDate.lexicographicallyPrecedes(date) {
            newestEventDate.removeAll(keepingCapacity: true)
            newestEventDate.append(contentsOf: date)
        }
        guard pending.followsLastDirect() else {
            try staged.append(line: reader.recordLine, key: pending.key,
                              fields: UnsafeBufferPointer(start: pending.fields, count: pending.count))
            stagedRows += 1
            if stagedRows == idSetAfterStagedRows, propertyLookup != nil { try readPropertyIDs() }
            return .staged
        }
        let before = statement.totalChanges
        defer { statement.reset() }
        do {
            while try statement.step() {}
        } catch {
            throw ListwiseError.runtime("\(reader.path):\(reader.recordLine): database error: \(error)")
        }
        return statement.totalChanges > before ? .changed : .unchanged
    }
}
