// What a store says of its territories (SQLiteTerritories.swift, PostgresTerritories.swift):
// a territory with its definition, and the homes inside one.
import Foundation

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
