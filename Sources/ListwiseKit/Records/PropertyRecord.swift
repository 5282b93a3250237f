// One parcel (SPEC §1 properties.csv): table `properties`.
import GRDB

public struct PropertyRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "properties"
    public var propertyID: String
    public var address: String
    public var city: String
    public var state: String
    public var zip: String
    public var zip4: String?
    public var latitude: Double?
    public var longitude: Double?
    public var propertyType: String?
    public var bedrooms: Double?
    public var bathrooms: Double?
    public var livingSqft: Int?
    public var lotSqft: Int?
    public var yearBuilt: Int?
    public var assessedValue: Int?
    public var ownerOccupied: Bool?

    public enum CodingKeys: String, CodingKey, ColumnExpression {
        case propertyID = "property_id", address, city, state, zip, zip4, latitude, longitude
        case propertyType = "property_type", bedrooms, bathrooms
        case livingSqft = "living_sqft", lotSqft = "lot_sqft", yearBuilt = "year_built"
        case assessedValue = "assessed_value", ownerOccupied = "owner_occupied"
    }
    public typealias Columns = CodingKeys
}
