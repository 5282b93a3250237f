// The feature pass over the SQLite store (SPEC §2): three statements walk properties, owners
// and events in property order together (a merge join in Swift), one home at a time into the
// builder; the zip counts by one indexed query a snapshot; and key ranges for the parallel passes.
// Hand-written over raw statements: reading 16M events through GRDB `Row` cursors measured
// 500–600k rows/s, raw column reads (`RawStatement`) several times that.
import Foundation
import GRDB

extension FeatureBuilder {
    /// A builder whose `pass` reads the SQLite database `db`.
    convenience init(settings: FeatureSettings, db: Database) throws {
        guard let connection = db.sqliteConnection else { throw ListwiseError.runtime("database is closed") }
        self.init(settings: settings, hasOwnerHistory: try AppDatabase.hasOwnerHistory(in: db),
                  dataEndDay: settings.dataEndDay == nil ? try AppDatabase.lastEventDay(in: db) : nil, sqlite: connection)
    }

    func prepare(_ sql: String, _ range: PropertyRange = PropertyRange()) throws -> RawStatement {
        guard let connection = sqlite else { throw ListwiseError.runtime("no SQLite connection to read features from") }
        let statement = try RawStatement(connection: connection, sql: sql)
        for (index, bound) in [range.lower, range.upper].compactMap({ $0 }).enumerated() {
            statement.bind(Int32(index + 1), bound)
        }
        return statement
    }

    func build(progress: ((Int) -> Void)?) throws -> FeatureTable {
        try pass(range: PropertyRange(), progress: progress) {}
        fillZipRates()
        return table
    }

    func stream(chunkRows: Int, _ body: (FeatureTable) throws -> Void) throws {
        try countZipsBySQL()
        try stream(chunkRows: chunkRows, range: PropertyRange(), body)
    }

    /// Streams the homes of `range` only, with the zip counts already in `zips` (counted by
    /// `countZipsBySQL` here, or the sum of every reader's, `ZipBarrier`).
    func stream(chunkRows: Int, range: PropertyRange, _ body: (FeatureTable) throws -> Void) throws {
        countZips = false
        try pass(range: range, progress: nil) {
            if self.table.count >= chunkRows { try self.flushChunk(body) }
        }
        try flushChunk(body)
    }

    /// The zip counts of `addRows` (homes that exist at T, and those with a LISTING in the 36
    /// months to T) by one indexed query per snapshot: 1.2 s for 1M homes where a pass over the
    /// events took about 10 s. `FeatureReferenceTests` checks both give the same rates. With a
    /// range, the homes of that range only (the readers of a parallel pass add theirs up).
    func countZipsBySQL(range: PropertyRange = PropertyRange()) throws {
        // MATERIALIZED keeps the scan in property order, so the index searches into events and
        // owners walk forward; grouped directly, SQLite scanned by the zip index instead and
        // the same query took 8 s for 1M homes rather than 1.2 s.
        let statement = try prepare("""
            WITH homes AS MATERIALIZED (
                SELECT p.zip AS zip,
                       EXISTS (SELECT 1 FROM events e WHERE e.property_id = p.property_id AND e.event_type = 'LISTING'
                               AND e.event_date > ?2 AND e.event_date <= ?1) AS listed
                FROM properties p
                WHERE \(range.lower == nil ? "" : "p.property_id >= ?4 AND ")\(range.upper == nil ? "" : "p.property_id < ?5 AND ")
                      (p.year_built < ?3
                       OR EXISTS (SELECT 1 FROM owners o WHERE o.property_id = p.property_id AND o.owner_since <= ?1)
                       OR EXISTS (SELECT 1 FROM events e WHERE e.property_id = p.property_id AND e.event_date <= ?1)))
            SELECT zip, count(*) AS homes, sum(listed) AS listed FROM homes GROUP BY zip
            """)
        let zip = try statement.column("zip"), homes = try statement.column("homes"), listed = try statement.column("listed")
        for (s, asOf) in settings.asOfDays.enumerated() {
            statement.reset()
            statement.bind(1, DayNumber.iso(asOf))
            statement.bind(2, DayNumber.iso(asOf - 1096))
            statement.bind(3, Int64(DayNumber.civil(asOf).year))
            if let lower = range.lower { statement.bind(4, lower) }
            if let upper = range.upper { statement.bind(5, upper) }
            while try statement.step() {
                let slot = zipSlot(statement.text(zip) ?? "")
                zips.homes[s][slot] = statement.double(homes)
                zips.listings[s][slot] = statement.double(listed)
            }
        }
    }

    /// Hands the rows gathered so far to `body` (with their zip rates) and starts a new chunk.
    func flushChunk(_ body: (FeatureTable) throws -> Void) throws {
        guard table.count > 0 else { return }
        try body(takeChunk())
    }

    /// One pass over every property; `flush` runs after each property.
    func pass(range: PropertyRange, progress: ((Int) -> Void)?, flush: () throws -> Void) throws {
        let properties = try prepare("""
            SELECT property_id, zip, year_built, living_sqft, lot_sqft, bedrooms, bathrooms, property_type,
                   city, latitude, longitude
            FROM properties \(range.sql) ORDER BY property_id
            """, range)
        let owners = try prepare("""
            SELECT property_id, owner_since, owner_birth_year, absentee, corporate FROM owners \(range.sql)
            ORDER BY property_id, owner_since
            """, range)
        let events = try prepare("""
            SELECT property_id, event_date, event_type, amount, rate FROM events \(range.sql) ORDER BY property_id, event_date
            """, range)
        let (id, zip, yearBuilt, livingSqft, lotSqft, bedrooms, bathrooms, propertyType, city, latitude, longitude) = (
            try properties.column("property_id"), try properties.column("zip"), try properties.column("year_built"),
            try properties.column("living_sqft"), try properties.column("lot_sqft"), try properties.column("bedrooms"),
            try properties.column("bathrooms"), try properties.column("property_type"), try properties.column("city"),
            try properties.column("latitude"), try properties.column("longitude"))
        let (ownerHome, ownerSince, ownerBirthYear, ownerAbsentee, ownerCorporate) = (
            try owners.column("property_id"), try owners.column("owner_since"), try owners.column("owner_birth_year"),
            try owners.column("absentee"), try owners.column("corporate"))
        let (eventHome, eventDate, eventType, eventAmount, eventRate) = (
            try events.column("property_id"), try events.column("event_date"), try events.column("event_type"),
            try events.column("amount"), try events.column("rate"))
        var ownerHasRow = try owners.step()
        var eventHasRow = try events.step()
        var homeOwners: [Owner] = []
        var homeEvents: [Event] = []
        var done = 0
        while try properties.step() {
            let key = Array(properties.bytes(id))
            homeOwners.removeAll(keepingCapacity: true)
            homeEvents.removeAll(keepingCapacity: true)
            // Owners and events of this property (rows of unknown properties cannot exist: foreign
            // keys). One comparison a row (two, `< 0` then `== 0`, were 16.6M extra at 1M homes).
            while ownerHasRow {
                let order = owners.compare(ownerHome, key)
                if order > 0 { break }
                if order < 0 { ownerHasRow = try owners.step(); continue }
                homeOwners.append(Owner(
                    since: DayNumber.parse(owners.textPointer(ownerSince)!),
                    birthYear: owners.optionalDouble(ownerBirthYear).map { Int($0) },
                    absentee: owners.optionalDouble(ownerAbsentee).map { $0 != 0 },
                    corporate: owners.optionalDouble(ownerCorporate).map { $0 != 0 }))
                ownerHasRow = try owners.step()
            }
            while eventHasRow {
                let order = events.compare(eventHome, key)
                if order > 0 { break }
                if order < 0 { eventHasRow = try events.step(); continue }
                let amount = events.int64(eventAmount)
                let rate = events.double(eventRate)
                homeEvents.append(Event(
                    day: DayNumber.parse(events.textPointer(eventDate)!),
                    type: Self.eventType(events.textPointer(eventType)),
                    amount: amount < 0 ? nil : Double(amount),
                    rate: rate < 0 ? nil : rate))
                eventHasRow = try events.step()
            }
            let homeZip = properties.text(zip) ?? ""
            let home = Home(
                id: String(decoding: key, as: UTF8.self),
                zip: homeZip,
                yearBuilt: properties.optionalDouble(yearBuilt),
                livingSqft: properties.optionalDouble(livingSqft),
                lotSqft: properties.optionalDouble(lotSqft),
                bedrooms: properties.optionalDouble(bedrooms),
                bathrooms: properties.optionalDouble(bathrooms),
                propertyType: properties.text(propertyType),
                inScope: settings.scope.map {
                    $0.contains(zip: homeZip, city: properties.text(city) ?? "",
                                latitude: properties.optionalDouble(latitude), longitude: properties.optionalDouble(longitude))
                } ?? true)
            addRows(home: home, owners: homeOwners, events: homeEvents)
            try flush()
            done += 1
            if done % 50_000 == 0 { progress?(done) }
        }
    }

    /// The event type from its stored spelling (validated on import), by its first letters:
    /// `EventType(rawValue:)` on a String was 2.4 % of a scoring run's time (16M events, twice).
    @inline(__always)
    static func eventType(_ text: UnsafePointer<UInt8>?) -> EventType {
        guard let text else { return .valuation }
        switch text[0] {
        case UInt8(ascii: "V"): return .valuation
        case UInt8(ascii: "M"): return .mortgage
        case UInt8(ascii: "S"): return .sale
        case UInt8(ascii: "L"): return .listing
        default: return text[1] == UInt8(ascii: "E") && text[2] == UInt8(ascii: "L") ? .delisting : .default
        }
    }
}

/// The property ids `lower ..< upper` (nil: unbounded), for a pass over part of the homes.
struct PropertyRange: Sendable {
    var lower: String?
    var upper: String?

    /// The WHERE clause; its parameters are ?1 (lower, when there is one) then the upper bound.
    var sql: String {
        switch (lower, upper) {
        case (nil, nil): return ""
        case (_?, nil): return "WHERE property_id >= ?1"
        case (nil, _?): return "WHERE property_id < ?1"
        case (_?, _?): return "WHERE property_id >= ?1 AND property_id < ?2"
        }
    }

    /// `parts` ranges with about as many of the `count` ids of `ids` (a query of property_id
    /// values, its arguments first) each; one unbounded range when there are too few ids. Each
    /// bound is found from the one before it (an OFFSET from the first id walked 0.05 s of index
    /// a bound at 1M homes).
    static func split(_ db: Database, parts: Int, count: Int, ids: String, arguments: StatementArguments = []) throws -> [PropertyRange] {
        guard parts > 1, count >= 2 * parts else { return [PropertyRange()] }
        let next = try db.makeStatement(sql: "SELECT property_id FROM (\(ids)) WHERE property_id >= ? ORDER BY property_id LIMIT 1 OFFSET ?")
        var bounds: [String] = []
        for part in 1..<parts {
            let step = count * part / parts - count * (part - 1) / parts
            guard let bound = try String.fetchOne(next, arguments: arguments + [bounds.last ?? "", step]) else { break }
            bounds.append(bound)
        }
        return (0...bounds.count).map { PropertyRange(lower: $0 == 0 ? nil : bounds[$0 - 1], upper: $0 == bounds.count ? nil : bounds[$0]) }
    }
}
