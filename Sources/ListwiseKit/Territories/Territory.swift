// Named territories (SPEC §3): zip codes, cities, GeoJSON polygons, or a radius around a point.
import Foundation

public struct GeoPoint: Codable, Equatable, Sendable {
    public var latitude: Double
    public var longitude: Double
    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }
}

public enum TerritoryDefinition: Codable, Equatable, Sendable {
    case zips([String])
    /// City names, matched case-insensitively.
    case cities([String])
    /// Polygons, each a list of rings (the first the outer boundary, the others holes), each a
    /// closed list of points.
    case polygons([[[GeoPoint]]])
    case radius(center: GeoPoint, miles: Double)

    public var kind: String {
        switch self {
        case .zips: return "zips"
        case .cities: return "cities"
        case .polygons: return "geojson"
        case .radius: return "radius"
        }
    }

    /// Whether a home is inside. Geographic definitions need coordinates; a home without them is outside.
    public func contains(zip: String, city: String, latitude: Double?, longitude: Double?) -> Bool {
        switch self {
        case .zips(let zips): return zips.contains(zip)
        case .cities(let cities): return cities.contains { $0.caseInsensitiveCompare(city) == .orderedSame }
        case .polygons(let polygons):
            guard let latitude, let longitude else { return false }
            return polygons.contains { Geometry.polygon($0, contains: GeoPoint(latitude: latitude, longitude: longitude)) }
        case .radius(let center, let miles):
            guard let latitude, let longitude else { return false }
            return Geometry.haversineMiles(center, GeoPoint(latitude: latitude, longitude: longitude)) <= miles
        }
    }

    /// A one-line description for `territory list`.
    public var summary: String {
        switch self {
        case .zips(let zips): return "zips " + zips.joined(separator: ",")
        case .cities(let cities): return "cities " + cities.joined(separator: ", ")
        case .polygons(let polygons): return "GeoJSON, \(polygons.count) polygon(s)"
        case .radius(let center, let miles):
            return String(format: "%.4f,%.4f radius %g miles", center.latitude, center.longitude, miles)
        }
    }
}

public enum Geometry {
    public static let earthRadiusMiles = 3958.7613

    /// Great-circle distance by the haversine formula.
    public static func haversineMiles(_ a: GeoPoint, _ b: GeoPoint) -> Double {
        let toRadians = Double.pi / 180
        let dLat = (b.latitude - a.latitude) * toRadians, dLon = (b.longitude - a.longitude) * toRadians
        let h = sin(dLat / 2) * sin(dLat / 2)
            + cos(a.latitude * toRadians) * cos(b.latitude * toRadians) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * earthRadiusMiles * asin(min(1, h.squareRoot()))
    }

    /// Point in a polygon with holes (planar, longitude as x and latitude as y). A point on any
    /// ring's edge counts as inside: the boundary belongs to the territory. Otherwise the
    /// even–odd rule over all rings, which makes holes outside.
    public static func polygon(_ rings: [[GeoPoint]], contains point: GeoPoint) -> Bool {
        let x = point.longitude, y = point.latitude
        var inside = false
        for ring in rings where ring.count >= 3 {
            var j = ring.count - 1
            for i in 0..<ring.count {
                let xi = ring[i].longitude, yi = ring[i].latitude, xj = ring[j].longitude, yj = ring[j].latitude
                if onSegment(x, y, xi, yi, xj, yj) { return true }
                if (yi > y) != (yj > y), x < (xj - xi) * (y - yi) / (yj - yi) + xi { inside.toggle() }
                j = i
            }
        }
        return inside
    }

    private static func onSegment(_ x: Double, _ y: Double, _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> Bool {
        let cross = (x - x1) * (y2 - y1) - (y - y1) * (x2 - x1)
        let length = max(abs(x2 - x1), abs(y2 - y1))
        guard abs(cross) <= 1e-12 * max(1, length) else { return false }
        return x >= min(x1, x2) - 1e-12 && x <= max(x1, x2) + 1e-12 && y >= min(y1, y2) - 1e-12 && y <= max(y1, y2) + 1e-12
    }

    /// Reads Polygon / MultiPolygon geometry from GeoJSON (a geometry, a Feature or a
    /// FeatureCollection). Throws a usage error naming what is wrong.
    public static func polygons(geoJSON data: Data, file: String) throws -> [[[GeoPoint]]] {
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw ListwiseError.usage("\(file): not valid JSON")
        }
        var result: [[[GeoPoint]]] = []
        func ring(_ value: Any, _ where_: String) throws -> [GeoPoint] {
            guard let positions = value as? [Any], positions.count >= 4 else {
                throw ListwiseError.usage("\(file): \(where_): a ring needs at least 4 positions")
            }
            let points = try positions.map { position -> GeoPoint in
                guard let pair = position as? [Any], pair.count >= 2,
                      let lon = (pair[0] as? NSNumber)?.doubleValue, let lat = (pair[1] as? NSNumber)?.doubleValue,
                      (-180...180).contains(lon), (-90...90).contains(lat) else {
                    throw ListwiseError.usage("\(file): \(where_): each position must be [longitude, latitude] in range")
                }
                return GeoPoint(latitude: lat, longitude: lon)
            }
            guard points.first == points.last else {
                throw ListwiseError.usage("\(file): \(where_): a ring must end where it starts")
            }
            return points
        }
        func polygon(_ value: Any, _ where_: String) throws -> [[GeoPoint]] {
            guard let rings = value as? [Any], !rings.isEmpty else {
                throw ListwiseError.usage("\(file): \(where_): a Polygon needs at least one ring")
            }
            return try rings.enumerated().map { try ring($0.element, "\(where_) ring \($0.offset + 1)") }
        }
        func geometry(_ value: Any?, _ where_: String) throws {
            guard let object = value as? [String: Any], let type = object["type"] as? String else {
                throw ListwiseError.usage("\(file): \(where_): missing geometry type")
            }
            switch type {
            case "Polygon":
                result.append(try polygon(object["coordinates"] as Any, where_))
            case "MultiPolygon":
                guard let polygons = object["coordinates"] as? [Any] else {
                    throw ListwiseError.usage("\(file): \(where_): MultiPolygon coordinates must be a list")
                }
                for (i, p) in polygons.enumerated() { result.append(try polygon(p, "\(where_) polygon \(i + 1)")) }
            case "Feature":
                try geometry(object["geometry"], where_)
            case "FeatureCollection":
                guard let features = object["features"] as? [Any] else {
                    throw ListwiseError.usage("\(file): FeatureCollection without features")
                }
                for (i, feature) in features.enumerated() { try geometry(feature, "feature \(i + 1)") }
            default:
                throw ListwiseError.usage("\(file): \(where_): \(type) is not a Polygon or MultiPolygon")
            }
        }
        try geometry(object, "geometry")
        guard !result.isEmpty else { throw ListwiseError.usage("\(file): no polygons") }
        return result
    }
}
