// Features from a PostgreSQL store: one server-side query streams every home with its owners
// and events (aggregated into arrays, in property order) into the same FeatureBuilder the
// SQLite pass feeds, so both stores compute the same rows. The server sends rows as the
// builder takes them (postgres-nio's back-pressure): no table is held in memory.
import Foundation
import PostgresNIO

extension PostgresStore {
    /// The last event date, as a day number.
    public func lastEventDay() async throws -> Int? { try await withConnection { try await lastEventDay(on: $0) } }

    func hasOwnerHistory() async throws -> Bool { try await withConnection { try await hasOwnerHistory(on: $0) } }

    /// Every snapshot's features, all rows in memory (training needs them all).
    /// Read in one repeatable-read transaction: one snapshot of the data.
    public func buildFeatures(_ settings: FeatureSettings, progress: ((Int) -> Void)? = nil) async throws -> FeatureTable {
        do {
            return try await inTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
                let builder = try await self.featureBuilder(settings, on: connection)
                var done = 0
                try await self.forEachHome(scope: settings.scope, on: connection, { home, owners, events in
                    builder.addRows(home: home, owners: owners, events: events)
                    done += 1
                    if done % 50_000 == 0 { progress?(done) }
                }, afterBatch: {})
                return builder.finishedTable()
            }
        } catch {
            throw describe(error)
        }
    }

    /// The same rows in chunks of about `chunkRows`, handed to `body` between two fetches of
    /// the pass (so that `body` may use the connection: scoring COPYs each chunk): the zip counts
    /// (which need every home) by one query per snapshot first, then one pass. Run it inside a
    /// repeatable-read transaction, so that both see one snapshot of the data.
    func streamFeatures(_ settings: FeatureSettings, on connection: PostgresConnection, chunkRows: Int,
                        _ body: (FeatureTable) async throws -> Void) async throws {
        let builder = try await featureBuilder(settings, on: connection)
        try await countZips(into: builder, on: connection)
        builder.countZips = false
        try await forEachHome(scope: settings.scope, on: connection, { home, owners, events in
            builder.addRows(home: home, owners: owners, events: events)
        }, afterBatch: {
            if builder.table.count >= chunkRows { try await body(builder.takeChunk()) }
        })
        if builder.table.count > 0 { try await body(builder.takeChunk()) }
    }

    /// A builder for `settings`, with what it needs to know of the store read on `connection`.
    private func featureBuilder(_ settings: FeatureSettings, on connection: PostgresConnection) async throws -> FeatureBuilder {
        FeatureBuilder(settings: settings, hasOwnerHistory: try await hasOwnerHistory(on: connection),
                       dataEndDay: settings.dataEndDay == nil ? try await lastEventDay(on: connection) : nil)
    }

    private func hasOwnerHistory(on connection: PostgresConnection) async throws -> Bool {
        var exists = false
        for try await value in try await connection.query("SELECT EXISTS (SELECT 1 FROM owners)", logger: logger).decode(Bool.self) {
            exists = value
        }
        return exists
    }

    func lastEventDay(on connection: PostgresConnection) async throws -> Int? {
        var day: Int?
        for try await value in try await connection.query("SELECT max(event_date) - DATE '1970-01-01' FROM events", logger: logger)
            .decode(Int?.self) {
            day = value
        }
        return day
    }

    /// The zip counts of `addRows` (homes that exist at T, and those with a LISTING in the 36
    /// months to T), as `FeatureBuilder.countZipsBySQL` counts them on SQLite.
    private func countZips(into builder: FeatureBuilder, on connection: PostgresConnection) async throws {
        for (s, asOf) in builder.settings.asOfDays.enumerated() {
            let day = DayNumber.iso(asOf), windowStart = DayNumber.iso(asOf - 1096), year = DayNumber.civil(asOf).year
            let rows = try await connection.query("""
                SELECT zip, count(*)::float8, count(*) FILTER (WHERE listed)::float8
                FROM (SELECT p.zip,
                             EXISTS (SELECT 1 FROM events e WHERE e.property_id = p.property_id AND e.event_type = 'LISTING'
                                     AND e.event_date > \(windowStart)::date AND e.event_date <= \(day)::date) AS listed
                      FROM properties p
                      WHERE p.year_built < \(year)
                         OR EXISTS (SELECT 1 FROM owners o WHERE o.property_id = p.property_id AND o.owner_since <= \(day)::date)
                         OR EXISTS (SELECT 1 FROM events e WHERE e.property_id = p.property_id AND e.event_date <= \(day)::date)) h
                GROUP BY zip
                """, logger: logger)
            for try await (zip, homes, listings) in rows.decode((String, Double, Double).self) {
                let slot = builder.zipSlot(zip)
                builder.zips.homes[s][slot] = homes
                builder.zips.listings[s][slot] = listings
            }
        }
    }

    /// Every home in property order with its owners (by date) and events (by date, then type,
    /// amount and rate: the SQLite key's order), one row a home, through a cursor fetched
    /// `batchHomes` at a time; `afterBatch` runs between fetches, when the connection is free.
    /// Must run inside a transaction (a cursor lives in one).
    private func forEachHome(scope: TerritoryDefinition?, on connection: PostgresConnection, batchHomes: Int = 2_000,
                             _ body: (FeatureBuilder.Home, [FeatureBuilder.Owner], [FeatureBuilder.Event]) throws -> Void,
                             afterBatch: () async throws -> Void) async throws {
        // Grouped from sorted inputs and merge-joined: index scans in property order on every
        // table, nothing sorted whole, and the arrays in their input's order (a LATERAL subquery a
        // home, each array sorted on its own, took 0.66 s for the sample's 10k homes; this 0.22 s).
        // The events come in their key's order in the database's collation: the event types are
        // upper-case ASCII words, which every collation orders as SQLite's byte order does. (Asking
        // for COLLATE "C" added an incremental sort: the 1M county's grouping took 27.5 s, not 10.1 s.)
        let types = Self.eventTypeCodes.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        try await connection.query(PostgresQuery(unsafeSQL: """
            DECLARE listwise_homes NO SCROLL CURSOR FOR
            SELECT p.property_id, p.zip, p.year_built::float8 AS year_built, p.living_sqft::float8 AS living_sqft,
                   p.lot_sqft::float8 AS lot_sqft, p.bedrooms, p.bathrooms, p.property_type, p.city, p.latitude, p.longitude,
                   o.since, o.birth_years, o.absentee, o.corporate, e.days, e.types, e.amounts, e.rates
            FROM properties p
            LEFT JOIN (SELECT property_id, array_agg(owner_since - DATE '1970-01-01') AS since,
                              array_agg(coalesce(owner_birth_year, -1)) AS birth_years,
                              array_agg(coalesce(absentee::int, -1)) AS absentee, array_agg(coalesce(corporate::int, -1)) AS corporate
                       FROM (SELECT * FROM owners ORDER BY property_id, owner_since) sorted GROUP BY property_id) o
                   ON o.property_id = p.property_id
            LEFT JOIN (SELECT property_id, array_agg(event_date - DATE '1970-01-01') AS days,
                              array_agg(array_position(ARRAY[\(types)], event_type)) AS types,
                              array_agg(amount) AS amounts, array_agg(rate) AS rates
                       FROM (SELECT * FROM events ORDER BY property_id, event_date, event_type, amount, rate) sorted
                       GROUP BY property_id) e
                   ON e.property_id = p.property_id
            ORDER BY p.property_id
            """), logger: logger)
        var owners: [FeatureBuilder.Owner] = []
        var events: [FeatureBuilder.Event] = []
        while true {
            var fetched = 0
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: "FETCH \(batchHomes) FROM listwise_homes"), logger: logger) {
                fetched += 1
                let cells = row.makeRandomAccess()
                owners.removeAll(keepingCapacity: true)
                events.removeAll(keepingCapacity: true)
                if let since = try cells["since"].decode([Int32]?.self) {
                    let birthYears = try cells["birth_years"].decode([Int32].self)
                    let absentee = try cells["absentee"].decode([Int32].self), corporate = try cells["corporate"].decode([Int32].self)
                    for i in since.indices {
                        owners.append(FeatureBuilder.Owner(
                            since: Int(since[i]), birthYear: birthYears[i] < 0 ? nil : Int(birthYears[i]),
                            absentee: absentee[i] < 0 ? nil : absentee[i] != 0, corporate: corporate[i] < 0 ? nil : corporate[i] != 0))
                    }
                }
                if let days = try cells["days"].decode([Int32]?.self) {
                    let types = try cells["types"].decode([Int32].self)
                    let amounts = try cells["amounts"].decode([Int64].self), rates = try cells["rates"].decode([Double].self)
                    for i in days.indices {
                        events.append(FeatureBuilder.Event(
                            day: Int(days[i]), type: Self.eventTypeCodes[Int(types[i]) - 1],
                            amount: amounts[i] < 0 ? nil : Double(amounts[i]), rate: rates[i] < 0 ? nil : rates[i]))
                    }
                }
                let zip = try cells["zip"].decode(String.self), city = try cells["city"].decode(String.self)
                let latitude = try cells["latitude"].decode(Double?.self), longitude = try cells["longitude"].decode(Double?.self)
                let home = FeatureBuilder.Home(
                    id: try cells["property_id"].decode(String.self), zip: zip,
                    yearBuilt: try cells["year_built"].decode(Double?.self),
                    livingSqft: try cells["living_sqft"].decode(Double?.self),
                    lotSqft: try cells["lot_sqft"].decode(Double?.self),
                    bedrooms: try cells["bedrooms"].decode(Double?.self),
                    bathrooms: try cells["bathrooms"].decode(Double?.self),
                    propertyType: try cells["property_type"].decode(String?.self),
                    inScope: scope.map { $0.contains(zip: zip, city: city, latitude: latitude, longitude: longitude) } ?? true)
                try body(home, owners, events)
            }
            if fetched == 0 { break }
            try await afterBatch()
        }
        try await connection.query("CLOSE listwise_homes", logger: logger)
    }

    /// The event types by their code in the query above (1-based).
    private static let eventTypeCodes: [EventType] = [.valuation, .mortgage, .sale, .listing, .delisting, .default]
}
