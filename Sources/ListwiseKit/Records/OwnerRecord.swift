// One ownership period from deed records (SPEC §1 owners.csv): table `owners`.
import GRDB

public struct OwnerRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "owners"
    public var propertyID: String
    /// ISO 8601 date, `YYYY-MM-DD`.
    public var ownerSince: String
    public var ownerBirthYear: Int?
    public var absentee: Bool?
    public var corporate: Bool?

    public enum CodingKeys: String, CodingKey, ColumnExpression {
        case propertyID = "property_id", ownerSince = "owner_since", ownerBirthYear = "owner_birth_year"
        case absentee, corporate
    }
    public typealias Columns = CodingKeys
}
