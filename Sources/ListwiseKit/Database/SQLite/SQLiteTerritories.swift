// Territories and their reports on the SQLite store (SPEC §3).
import Foundation
import GRDB
import Synchronization

extension AppDatabase {
    /// Saves (or replaces) a territory. Returns warnings: zips or cities no property has, or no homes inside.
    @discardableResult
    public func addTerritory(name: String, definition: TerritoryDefinition) throws -> [String] {
        let trimmedName = name.trimmingCharacters(in: .whitespaces)
        guard !trimmedName.isEmpty else { throw ListwiseError.usage("a territory needs a name") }
        var warnings: [String] = []
        try write { db in
            switch definition {
            case .zips(let zips):
                let known = Set(try String.fetchAll(db, sql: "SELECT DISTINCT zip FROM properties"))
                let unknown = zips.filter { !known.contains($0) }
                if !unknown.isEmpty { warnings.append("no properties in zip \(unknown.joined(separator: ", "))") }
            case .cities(let cities):
                let known = Set(try String.fetchAll(db, sql: "SELECT DISTINCT lower(city) FROM properties"))
                let unknown = cities.filter { !known.contains($0.lowercased()) }
                if !unknown.isEmpty { warnings.append("no properties in \(unknown.joined(separator: ", "))") }
            case .polygons, .radius:
                break
            }
            let json = String(decoding: try JSONEncoder().encode(definition), as: UTF8.self)
            try db.execute(sql: """
                INSERT INTO territories (name, kind, definition, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, definition = excluded.definition, created_at = excluded.created_at
                """, arguments: [trimmedName, definition.kind, json, Self.timestamp(Date())])
        }
        if try territoryContents(definition).homes == 0 { warnings.append("territory '\(trimmedName)' has no homes") }
        return warnings
    }

    public func territories() throws -> [TerritoryInfo] {
        try read { db in
            try Row.fetchAll(try db.cachedStatement(sql: "SELECT name, definition, created_at FROM territories ORDER BY name")).map { row in
                TerritoryInfo(name: row["name"], definition: try Self.decodeDefinition(row["definition"]), createdAt: row["created_at"])
            }
        }
    }

    /// The territory called `name`; a usage error listing the known ones when there is none.
    public func territory(named name: String) throws -> TerritoryInfo {
        let all = try territories()
        guard let found = all.first(where: { $0.name == name }) else {
            let known = all.map(\.name)
            throw ListwiseError.usage("no territory '\(name)'" + (known.isEmpty ? " (none defined: use 'listwise territory add')" : " (known: \(known.joined(separator: ", ")))"))
        }
        return found
    }

    public func removeTerritory(named name: String) throws {
        _ = try territory(named: name)
        try write { db in try db.execute(sql: "DELETE FROM territories WHERE name = ?", arguments: [name]) }
    }

    /// The ids of the homes inside, in property order.
    public func propertyIDs(in definition: TerritoryDefinition) throws -> [String] {
        var ids: [String] = []
        try forEachHome(in: definition) { id, _, _ in ids.append(id) }
        return ids
    }

    public func territoryContents(_ definition: TerritoryDefinition) throws -> TerritoryContents {
        var tally = TerritoryContents.Tally()
        try forEachHome(in: definition) { _, latitude, longitude in tally.add(latitude: latitude, longitude: longitude) }
        return tally.contents
    }

    private func forEachHome(in definition: TerritoryDefinition, _ body: (String, Double?, Double?) -> Void) throws {
        try read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT property_id, zip, city, latitude, longitude FROM properties ORDER BY property_id")
            while let row = try rows.next() {
                let latitude: Double? = row["latitude"], longitude: Double? = row["longitude"]
                if definition.contains(zip: row["zip"], city: row["city"], latitude: latitude, longitude: longitude) {
                    body(row["property_id"], latitude, longitude)
                }
            }
        }
    }

    private static let decodedDefinitions = Mutex<[String: TerritoryDefinition]>([:])

    static func decodeDefinition(_ json: String) throws -> TerritoryDefinition {
        // Remembered by text: the server reads the territories on most requests, and decoding a
        // definition (JSONDecoder) cost more than the rest of a page of scores.
        if let known = decodedDefinitions.withLock({ $0[json] }) { return known }
        do {
            let definition = try JSONDecoder().decode(TerritoryDefinition.self, from: Data(json.utf8))
            decodedDefinitions.withLock { cache in
                if cache.count > 1000 { cache.removeAll() }
                cache[json] = definition
            }
            return definition
        } catch {
            throw ListwiseError.runtime("a stored territory cannot be read: \(error.localizedDescription)")
        }
    }
}

extension AppDatabase {
    /// The report of a score run (default: the territory's latest run).
    public func territoryReport(territory: String?, runID: Int64?) throws -> TerritoryReport {
        let run = try scoreRun(id: runID, territory: territory)
        let homes = try read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.property_id, p.address, p.zip, p.latitude, p.longitude, s.probability, s.rank, s.tier, s.on_market,
                       s.reason1, s.reason2, s.reason3
                FROM scores s JOIN properties p ON p.property_id = s.property_id WHERE s.run_id = ?
                """, arguments: [run.id]).map { row in
                TerritoryReport.Home(
                    propertyID: row["property_id"], address: row["address"], zip: row["zip"], probability: row["probability"],
                    rank: row["rank"], tier: row["tier"], onMarket: row["on_market"],
                    reasons: [row["reason1"], row["reason2"], row["reason3"]].compactMap { $0 as String? },
                    latitude: row["latitude"], longitude: row["longitude"])
            }
        }
        var report = TerritoryReport(run: run, homes: homes)
        report.campaigns = try measuredCampaigns(territory: run.territory).map { try campaignResults($0, asOfDay: nil) }
        return report
    }
}
