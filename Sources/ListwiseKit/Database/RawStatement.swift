// The one place listwise calls SQLite's C API, for the hot loops where GRDB's conveniences cost
// too much (measured on this machine): binding import rows (GRDB's StatementArguments 110–146k
// rows/s, raw binds 260–310k), reading 16M events for the features (GRDB `Row` cursors
// 500–600k rows/s, `sqlite3_column_*` several times that), and the score run's rows (a
// multi-row INSERT bound from a spill file, `BatchedInsert`). Everything else goes through GRDB.
//
// A statement reads its columns by an index resolved from the column's name once (`column(_:)`),
// never by a position the reader assumes; its errors carry the SQL that failed.
import Foundation
import GRDB
import GRDBSQLite

final class RawStatement {
    let sql: String
    private let connection: OpaquePointer
    private let handle: OpaquePointer
    /// The GRDB statement that owns `handle`, when this one reads a statement GRDB prepared.
    private let owner: Statement?

    /// SQLITE_TRANSIENT: SQLite copies the bytes (a Swift string is not pinned).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Prepares `sql` on `db`'s connection; `persistent` for a statement run many times.
    convenience init(_ db: Database, sql: String, persistent: Bool = false) throws {
        guard let connection = db.sqliteConnection else { throw ListwiseError.runtime("database is closed") }
        try self.init(connection: connection, sql: sql, persistent: persistent)
    }

    /// Prepares `sql` on an open connection (a builder keeps one for its pass).
    init(connection: OpaquePointer, sql: String, persistent: Bool = false) throws {
        self.sql = sql
        self.connection = connection
        var statement: OpaquePointer?
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        guard sqlite3_prepare_v3(connection, sql, -1, flags, &statement, nil) == SQLITE_OK, let statement else {
            throw ListwiseError.runtime("cannot prepare \(Self.abbreviated(sql)): \(String(cString: sqlite3_errmsg(connection)))")
        }
        handle = statement
        owner = nil
    }

    /// Reads the rows of a statement GRDB prepared and bound (its named arguments).
    init(_ db: Database, reading statement: Statement) throws {
        guard let connection = db.sqliteConnection else { throw ListwiseError.runtime("database is closed") }
        sql = statement.sql
        self.connection = connection
        handle = statement.sqliteStatement
        owner = statement
    }

    deinit { if owner == nil { sqlite3_finalize(handle) } }

    // MARK: - Binding (parameters count from 1)

    func bind(_ parameter: Int32, _ value: Int64) { sqlite3_bind_int64(handle, parameter, value) }
    func bind(_ parameter: Int32, _ value: Double) { sqlite3_bind_double(handle, parameter, value) }
    func bindNull(_ parameter: Int32) { sqlite3_bind_null(handle, parameter) }

    /// Binds a copy of `text`.
    func bind(_ parameter: Int32, _ text: String) {
        var text = text
        text.withUTF8 { bytes in
            _ = sqlite3_bind_text(handle, parameter, UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self),
                                  Int32(bytes.count), Self.transient)
        }
    }

    /// Binds `count` bytes at `bytes` without copying them: they must stay put until the
    /// statement has stepped (a CSV reader's buffer, before it reads the next record).
    func bind(_ parameter: Int32, unsafeBytes bytes: UnsafeRawPointer, count: Int) {
        sqlite3_bind_text(handle, parameter, bytes.assumingMemoryBound(to: CChar.self), Int32(count), nil)
    }

    func clearBindings() { sqlite3_clear_bindings(handle) }

    enum Value {
        case text(String?), double(Double?), integer(Int?)
    }

    /// Binds `values` to parameters 1..., then runs the statement once and resets it.
    func run(_ values: [Value]) throws {
        for (offset, value) in values.enumerated() {
            let parameter = Int32(offset + 1)
            switch value {
            case .text(let text?): bind(parameter, text)
            case .double(let number?): bind(parameter, number)
            case .integer(let number?): bind(parameter, Int64(number))
            default: bindNull(parameter)
            }
        }
        defer { reset() }
        while try step() {}
    }

    // MARK: - Running

    /// Steps once: true when a row is ready to read, false when the statement is done.
    @inline(__always)
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw failure()
        }
    }

    /// Ready to run again (the bindings stay).
    func reset() { sqlite3_reset(handle) }

    /// Rows the connection has inserted, updated or deleted since it opened (tells an upsert
    /// that changed a row from one that found it identical).
    var totalChanges: Int64 { sqlite3_total_changes64(connection) }

    /// The connection's last error, with the statement's SQL.
    func failure() -> ListwiseError {
        ListwiseError.runtime("\(Self.abbreviated(sql)) failed: \(String(cString: sqlite3_errmsg(connection))) (\(sqlite3_extended_errcode(connection)))")
    }

    private static func abbreviated(_ sql: String) -> String {
        let oneLine = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return "'" + (oneLine.count > 80 ? oneLine.prefix(77) + "..." : oneLine) + "'"
    }

    // MARK: - Reading the current row

    /// The index of the result column `name` (as the SELECT names it); an error when there is none.
    func column(_ name: String) throws -> Int32 {
        for index in 0..<sqlite3_column_count(handle) where String(cString: sqlite3_column_name(handle, index)) == name {
            return index
        }
        throw ListwiseError.runtime("\(Self.abbreviated(sql)) has no column \(name)")
    }

    @inline(__always) func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    @inline(__always) func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    @inline(__always) func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    @inline(__always) func optionalDouble(_ column: Int32) -> Double? { isNull(column) ? nil : double(column) }

    func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: pointer)
    }

    /// The column's text, NUL-terminated (SQLite's guarantee), valid until the next step; nil for
    /// NULL. Without the length call of `bytes`: for fixed-width text such as a date (two calls
    /// of the C API an event row, 16.6M rows at 1M homes).
    @inline(__always)
    func textPointer(_ column: Int32) -> UnsafePointer<UInt8>? { sqlite3_column_text(handle, column) }

    /// The column's text bytes, valid until the next step (empty for NULL).
    @inline(__always)
    func bytes(_ column: Int32) -> UnsafeBufferPointer<UInt8> {
        let pointer = sqlite3_column_text(handle, column)
        return UnsafeBufferPointer(start: pointer, count: pointer == nil ? 0 : Int(sqlite3_column_bytes(handle, column)))
    }

    /// Compares the text in `column` with `key` byte by byte (SQLite's BINARY collation, i.e.
    /// memcmp, the order of an ORDER BY on a text key).
    @inline(__always)
    func compare(_ column: Int32, _ key: [UInt8]) -> Int32 {
        let length = Int(sqlite3_column_bytes(handle, column))
        guard let pointer = sqlite3_column_text(handle, column) else { return -1 }
        let common = min(length, key.count)
        let result = key.withUnsafeBufferPointer { memcmp(pointer, $0.baseAddress!, common) }
        if result != 0 { return result }
        return length < key.count ? -1 : (length > key.count ? 1 : 0)
    }
}

/// Rows inserted `batchRows` at a time by one prepared multi-row statement: a step of a one-row
/// INSERT costs ~0.7 µs more than the row it adds (1M three-column rows into `score_ranks`: 1.2-1.3 s
/// a row a step, against 0.5 s for the same rows by INSERT ... SELECT in the sqlite3 shell).
/// Values bound without a copy (`bind(_:unsafeBytes:count:)`) must stay put until the batch is
/// written: `flush` writes the rows bound so far.
final class BatchedInsert {
    let columns: Int
    let batchRows: Int
    private let statement: RawStatement
    private var pending = 0

    /// `INSERT INTO table (columns) SELECT * FROM (VALUES (...), ...) LIMIT ?`: the limit lets the
    /// one statement write a last, shorter batch (SQLite emits a VALUES list's rows in order).
    init(_ db: Database, table: String, columns: [String], batchRows: Int = 64) throws {
        self.columns = columns.count
        self.batchRows = batchRows
        let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        statement = try RawStatement(db, sql: """
            INSERT INTO \(table) (\(columns.joined(separator: ", ")))
            SELECT * FROM (VALUES \(Array(repeating: row, count: batchRows).joined(separator: ", "))) LIMIT ?
            """, persistent: true)
    }

    /// The parameter of `column` (from 0) in the row being bound.
    @inline(__always)
    private func parameter(_ column: Int) -> Int32 { Int32(pending * columns + column + 1) }

    func bind(_ column: Int, _ value: Int64) { statement.bind(parameter(column), value) }
    func bind(_ column: Int, _ value: Double) { statement.bind(parameter(column), value) }
    func bind(_ column: Int, _ text: String) { statement.bind(parameter(column), text) }
    func bind(_ column: Int, unsafeBytes bytes: UnsafeRawPointer, count: Int) {
        statement.bind(parameter(column), unsafeBytes: bytes, count: count)
    }
    func bindNull(_ column: Int) { statement.bindNull(parameter(column)) }

    /// The row's values are bound; writes the batch when it is full.
    func endRow() throws {
        pending += 1
        if pending == batchRows { try flush() }
    }

    /// Writes the rows bound so far.
    func flush() throws {
        guard pending > 0 else { return }
        statement.bind(Int32(batchRows * columns + 1), Int64(pending))
        defer { statement.reset(); pending = 0 }
        while try statement.step() {}
    }
}
