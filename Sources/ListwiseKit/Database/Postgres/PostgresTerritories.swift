// Territories on a PostgreSQL store: the same rules as on SQLite (TerritoryStore.swift); the
// definition is kept as jsonb.
import Foundation
import PostgresNIO

extension PostgresStore {
    @discardableResult
    public func addTerritory(name: String, definition: TerritoryDefinition) async throws -> [String] {
        let trimmedName = name.trimmingCharacters(in: .whitespaces)
        guard !trimmedName.isEmpty else { throw ListwiseError.usage("a territory needs a name") }
        var warnings: [String] = []
        do {
            switch definition {
            case .zips(let zips):
                var known: Set<String> = []
                for try await zip in try await query("SELECT DISTINCT zip FROM properties").decode(String.self) {
                    known.insert(zip)
                }
                let unknown = zips.filter { !known.contains($0) }
                if !unknown.isEmpty { warnings.append("no properties in zip \(unknown.joined(separator: ", "))") }
            case .cities(let cities):
                var known: Set<String> = []
                for try await city in try await query("SELECT DISTINCT lower(city) FROM properties").decode(String.self) {
                    known.insert(city)
                }
                let unknown = cities.filter { !known.contains($0.lowercased()) }
                if !unknown.isEmpty { warnings.append("no properties in \(unknown.joined(separator: ", "))") }
            case .polygons, .radius:
                break
            }
            let json = String(decoding: try JSONEncoder().encode(definition), as: UTF8.self)
            try await query("""
                INSERT INTO territories (name, kind, definition, created_at) VALUES (\(trimmedName), \(definition.kind), \(json)::jsonb, now())
                ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, definition = EXCLUDED.definition, created_at = EXCLUDED.created_at
                """)
        } catch {
            throw describe(error)
        }
        if try await territoryContents(definition).homes == 0 { warnings.append("territory '\(trimmedName)' has no homes") }
        return warnings
    }

    public func territories() async throws -> [TerritoryInfo] {
        var all: [TerritoryInfo] = []
        let rows = try await query("""
            SELECT name, definition::text, \(unescaped: Self.timestampText("created_at")) FROM territories ORDER BY name COLLATE "C"
            """)
        for try await (name, definition, createdAt) in rows.decode((String, String, String).self) {
            all.append(TerritoryInfo(name: name, definition: try AppDatabase.decodeDefinition(definition), createdAt: createdAt))
        }
        return all
    }

    public func territory(named name: String) async throws -> TerritoryInfo {
        let all = try await territories()
        guard let found = all.first(where: { $0.name == name }) else {
            let known = all.map(\.name)
            throw ListwiseError.usage("no territory '\(name)'" + (known.isEmpty ? " (none defined: use 'listwise territory add')" : " (known: \(known.joined(separator: ", ")))"))
        }
        return found
    }

    public func removeTerritory(named name: String) async throws {
        _ = try await territory(named: name)
        try await query("DELETE FROM territories WHERE name = \(name)")
    }

    public func territoryContents(_ definition: TerritoryDefinition) async throws -> TerritoryContents {
        var tally = TerritoryContents.Tally()
        let rows = try await query("SELECT zip, city, latitude, longitude FROM properties")
        for try await (zip, city, latitude, longitude) in rows.decode((String, String, Double?, Double?).self)
        where definition.contains(zip: zip, city: city, latitude: latitude, longitude: longitude) {
            tally.add(latitude: latitude, longitude: longitude)
        }
        return tally.contents
    }

    /// A timestamptz column as the text SQLite stores (`AppDatabase.timestamp`: UTC, milliseconds, Z).
    static func timestampText(_ column: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    }
}
