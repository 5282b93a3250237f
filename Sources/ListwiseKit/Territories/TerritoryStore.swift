// Storing territories and finding the homes inside them.
import Foundation
import GRDB

public struct TerritoryInfo: Equatable, Sendable {
    public var name: String
    public var definition: TerritoryDefinition
    public var createdAt: String
}

public struct TerritoryContents: Equatable, Sendable {
    public var homes: Int
    /// South-west and north-east corners of the homes with coordinates; nil when none have any.
    public var boundingBox: (southWest: GeoPoint, northEast: GeoPoint)?

    public static func == (a: Self, b: Self) -> Bool {
        a.homes == b.homes && a.boundingBox?.southWest == b.boundingBox?.southWest && a.boundingBox?.northEast == b.boundingBox?.northEast
    }
}

extension TerritoryContents {
    /// Homes counted one at a time, the box widened by those with coordinates.
    struct Tally {
        private var homes = 0
        private var south = Double.infinity, west = Double.infinity, north = -Double.infinity, east = -Double.infinity

        mutating func add(latitude: Double?, longitude: Double?) {
            homes += 1
            if let latitude, let longitude {
                south = min(south, latitude); north = max(north, latitude)
                west = min(west, longitude); east = max(east, longitude)
            }
        }

        var contents: TerritoryContents {
            let box = south.isFinite ? (GeoPoint(latitude: south, longitude: west), GeoPoint(latitude: north, longitude: east)) : nil
            return TerritoryContents(homes: homes, boundingBox: box)
        }
    }
}

extension AppDatabase {
    /// Saves (or replaces) a territory. Returns warnings: zips or cities no property has, or no homes inside.
    @discardableResult
    public func addTerritory(name: String, definition: TerritoryDefinition) throws -> [String] {
        let trimmedName = name.trimmingCharacters(in: .whitespaces)
        guard !trimmedName.isEmpty else { throw ListwiseError.usage("a territory needs a name") }
        var warnings: [String] = []
        try writer.write { db in
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
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT name, definition, created_at FROM territories ORDER BY name").map { row in
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
        try writer.write { db in try db.execute(sql: "DELETE FROM territories WHERE name = ?", arguments: [name]) }
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
        try writer.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT property_id, zip, city, latitude, longitude FROM properties ORDER BY property_id")
            while let row = try rows.next() {
                let latitude: Double? = row["latitude"], longitude: Double? = row["longitude"]
                if definition.contains(zip: row["zip"], city: row["city"], latitude: latitude, longitude: longitude) {
                    body(row["property_id"], latitude, longitude)
                }
            }
        }
    }

    static func decodeDefinition(_ json: String) throws -> TerritoryDefinition {
        do {
            return try JSONDecoder().decode(TerritoryDefinition.self, from: Data(json.utf8))
        } catch {
            throw ListwiseError.runtime("a stored territory cannot be read: \(error.localizedDescription)")
        }
    }
}
