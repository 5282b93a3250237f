// One owner contact tied to a property (SPEC §1 prospects.csv): table `prospects`.
import GRDB

public struct ProspectRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "prospects"
    public var prospectID: String
    public var propertyID: String
    public var firstName: String?
    public var lastName: String?
    public var ownerBirthYear: Int?
    public var mailingAddress: String?
    public var mailingCity: String?
    public var mailingState: String?
    public var mailingZip: String?
    public var mailingZip4: String?
    public var email: String?
    public var phone: String?
    public var doNotMail: Bool
    public var doNotEmail: Bool
    public var doNotCall: Bool

    public enum CodingKeys: String, CodingKey, ColumnExpression {
        case prospectID = "prospect_id", propertyID = "property_id"
        case firstName = "first_name", lastName = "last_name", ownerBirthYear = "owner_birth_year"
        case mailingAddress = "mailing_address", mailingCity = "mailing_city", mailingState = "mailing_state"
        case mailingZip = "mailing_zip", mailingZip4 = "mailing_zip4", email, phone
        case doNotMail = "do_not_mail", doNotEmail = "do_not_email", doNotCall = "do_not_call"
    }
    public typealias Columns = CodingKeys
}
