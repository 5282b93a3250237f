// The four input files of SPEC §1: their columns, types, RESO aliases and keys.
import Foundation

/// Why a row was rejected: the `reason` column of the rejects file (SPEC §1).
/// `malformed_record` (wrong number of fields, stray quotes) and `bad_encoding` (not UTF-8)
/// are additions to the SPEC list: such rows cannot be read as data at all.
public enum RejectReason: String, CaseIterable, Codable, Sendable {
    case missingRequired = "missing_required"
    case badNumber = "bad_number"
    case badBool = "bad_bool"
    case badDate = "bad_date"
    case badZip = "bad_zip"
    case badEnum = "bad_enum"
    case unknownPropertyID = "unknown_property_id"
    case malformedRecord = "malformed_record"
    case badEncoding = "bad_encoding"
}

enum FieldType {
    case text
    /// 5 digits or ZIP+4; stored as two columns: `name` (5 digits) and `name`4.
    case zip
    case decimal(ClosedRange<Double>)
    case integer(ClosedRange<Int64>)
    case bool(defaultValue: Bool?)
    case date
    case enumeration([String])
}

struct ColumnSpec {
    let name: String
    let alias: String?
    let type: FieldType
    let required: Bool

    init(_ name: String, _ type: FieldType = .text, required: Bool = false, alias: String? = nil) {
        self.name = name
        self.type = type
        self.required = required
        self.alias = alias
    }

    /// Database columns this CSV column fills.
    var databaseColumns: [String] {
        if case .zip = type { return [name, name + "4"] }
        return [name]
    }
}

public enum ImportKind: String, CaseIterable, Codable, Sendable {
    case properties, owners, prospects, events

    /// The order in which a folder's files are imported (each kind's references exist first).
    public static let importOrder: [ImportKind] = [.properties, .owners, .prospects, .events]

    var table: String { rawValue }

    var columns: [ColumnSpec] {
        let yearRange: ClosedRange<Int64> = 1600...2200
        let nonNegative: ClosedRange<Int64> = 0...Int64.max
        switch self {
        case .properties:
            return [
                ColumnSpec("property_id", required: true, alias: "ParcelNumber"),
                ColumnSpec("address", required: true, alias: "UnparsedAddress"),
                ColumnSpec("city", required: true, alias: "City"),
                ColumnSpec("state", required: true, alias: "StateOrProvince"),
                ColumnSpec("zip", .zip, required: true, alias: "PostalCode"),
                ColumnSpec("latitude", .decimal(-90...90), alias: "Latitude"),
                ColumnSpec("longitude", .decimal(-180...180), alias: "Longitude"),
                ColumnSpec("property_type", .enumeration(["SFR", "CONDO", "TOWNHOUSE", "MULTI", "MOBILE", "OTHER"]),
                           alias: "PropertySubType"),
                ColumnSpec("bedrooms", .decimal(0...1000), alias: "BedroomsTotal"),
                ColumnSpec("bathrooms", .decimal(0...1000), alias: "BathroomsTotalDecimal"),
                ColumnSpec("living_sqft", .integer(nonNegative), alias: "LivingArea"),
                ColumnSpec("lot_sqft", .integer(nonNegative), alias: "LotSizeSquareFeet"),
                ColumnSpec("year_built", .integer(yearRange), alias: "YearBuilt"),
                ColumnSpec("assessed_value", .integer(nonNegative)),
                ColumnSpec("owner_occupied", .bool(defaultValue: nil)),
            ]
        case .owners:
            return [
                ColumnSpec("property_id", required: true),
                ColumnSpec("owner_since", .date, required: true),
                ColumnSpec("owner_birth_year", .integer(yearRange)),
                ColumnSpec("absentee", .bool(defaultValue: nil)),
                ColumnSpec("corporate", .bool(defaultValue: nil)),
            ]
        case .prospects:
            return [
                ColumnSpec("prospect_id", required: true),
                ColumnSpec("property_id", required: true),
                ColumnSpec("first_name"),
                ColumnSpec("last_name"),
                ColumnSpec("owner_birth_year", .integer(yearRange)),
                ColumnSpec("mailing_address"),
                ColumnSpec("mailing_city"),
                ColumnSpec("mailing_state"),
                ColumnSpec("mailing_zip", .zip),
                ColumnSpec("email"),
                ColumnSpec("phone"),
                ColumnSpec("do_not_mail", .bool(defaultValue: false)),
                ColumnSpec("do_not_email", .bool(defaultValue: false)),
                ColumnSpec("do_not_call", .bool(defaultValue: false)),
            ]
        case .events:
            return [
                ColumnSpec("property_id", required: true),
                ColumnSpec("event_type", .enumeration(EventType.allCases.map(\.rawValue)), required: true),
                ColumnSpec("event_date", .date, required: true),
                ColumnSpec("amount", .integer(nonNegative)),
                ColumnSpec("rate", .decimal(0...100)),
            ]
        }
    }

    /// Database columns of the key: the conflict target of the upsert.
    var keyColumns: [String] {
        switch self {
        case .properties: return ["property_id"]
        case .owners: return ["property_id", "owner_since"]
        case .prospects: return ["prospect_id"]
        case .events: return ["property_id", "event_date", "event_type", "amount", "rate"]
        }
    }

    /// The kind of a file, from its name (`properties.csv`, `2024_events.csv`) or else from its
    /// header's distinctive columns. Nil when neither tells.
    public static func detect(fileName: String, header: [String]) -> ImportKind? {
        let stem = (fileName as NSString).deletingPathExtension.lowercased()
        let byName = allCases.filter { stem.contains($0.rawValue) || stem.contains(String($0.rawValue.dropLast())) }
        if byName.count == 1 { return byName[0] }
        let names = Set(header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        if names.contains("event_type") { return .events }
        if names.contains("prospect_id") { return .prospects }
        if names.contains("owner_since") { return .owners }
        if names.contains("address") || names.contains("unparsedaddress") { return .properties }
        return nil
    }
}
