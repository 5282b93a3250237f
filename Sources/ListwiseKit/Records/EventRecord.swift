// One dated event of a property (SPEC §1 events.csv): table `events`.
import GRDB

public enum EventType: String, Codable, CaseIterable, Sendable {
    case listing = "LISTING", sale = "SALE", delisting = "DELISTING"
    case mortgage = "MORTGAGE", `default` = "DEFAULT", valuation = "VALUATION"
}

public struct EventRecord: Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "events"
    public var propertyID: String
    /// ISO 8601 date, `YYYY-MM-DD`.
    public var eventDate: String
    public var eventType: EventType
    public var amountDollars: Int?
    public var ratePercent: Double?

    public init(propertyID: String, eventDate: String, eventType: EventType, amountDollars: Int? = nil,
                ratePercent: Double? = nil) {
        self.propertyID = propertyID
        self.eventDate = eventDate
        self.eventType = eventType
        self.amountDollars = amountDollars
        self.ratePercent = ratePercent
    }

    public enum Columns {
        public static let propertyID = Column("property_id")
        public static let eventDate = Column("event_date")
        public static let eventType = Column("event_type")
        /// -1 when the amount was not given (a key column cannot be NULL; see the migration).
        public static let amount = Column("amount")
        /// -1 when the rate was not given.
        public static let rate = Column("rate")
    }

    /// The value stored for a missing amount or rate.
    static let missing: Int = -1

    public init(row: Row) throws {
        propertyID = row[Columns.propertyID]
        eventDate = row[Columns.eventDate]
        eventType = EventType(rawValue: row[Columns.eventType]) ?? .valuation
        let amount: Int = row[Columns.amount]
        amountDollars = amount == Self.missing ? nil : amount
        let rate: Double = row[Columns.rate]
        ratePercent = rate < 0 ? nil : rate
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container[Columns.propertyID] = propertyID
        container[Columns.eventDate] = eventDate
        container[Columns.eventType] = eventType.rawValue
        container[Columns.amount] = amountDollars ?? Self.missing
        container[Columns.rate] = ratePercent ?? Double(Self.missing)
    }
}
