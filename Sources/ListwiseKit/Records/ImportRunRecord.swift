// One run of `listwise import` for one file: table `imports`.
import GRDB

public struct ImportRunRecord: Codable, Equatable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "imports"
    public var id: Int64?
    public var kind: String
    public var file: String
    public var sha256: String
    public var startedAt: String
    public var finishedAt: String
    public var rows: Int
    public var inserted: Int
    public var updated: Int
    public var unchanged: Int
    public var rejected: Int
    /// Events imports: the latest event_date among the file's good rows.
    public var newestEventDate: String?

    public enum CodingKeys: String, CodingKey, ColumnExpression {
        case id, kind, file, sha256, startedAt = "started_at", finishedAt = "finished_at"
        case rows, inserted, updated, unchanged, rejected, newestEventDate = "newest_event_date"
    }
    public typealias Columns = CodingKeys

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
