// Territories: point in polygon on edges and holes, haversine radius, zips and cities, GeoJSON errors.
import Foundation
import XCTest
@testable import ListwiseKit

final class TerritoryTests: TemporaryFolderTestCase {
    private func p(_ lon: Double, _ lat: Double) -> GeoPoint { GeoPoint(latitude: lat, longitude: lon) }

    /// A 10 x 10 square with a 2 x 2 hole in the middle.
    private var squareWithHole: [[GeoPoint]] {
        [[p(0, 0), p(10, 0), p(10, 10), p(0, 10), p(0, 0)],
         [p(4, 4), p(6, 4), p(6, 6), p(4, 6), p(4, 4)]]
    }

    func testPointInPolygonWithEdgesVerticesAndHoles() {
        let polygon = squareWithHole
        XCTAssertTrue(Geometry.polygon(polygon, contains: p(1, 1)))
        XCTAssertFalse(Geometry.polygon(polygon, contains: p(5, 5)), "inside the hole")
        XCTAssertFalse(Geometry.polygon(polygon, contains: p(11, 5)))
        XCTAssertFalse(Geometry.polygon(polygon, contains: p(-0.0001, 5)))
        XCTAssertTrue(Geometry.polygon(polygon, contains: p(0, 5)), "on the outer edge")
        XCTAssertTrue(Geometry.polygon(polygon, contains: p(10, 10)), "on a vertex")
        XCTAssertTrue(Geometry.polygon(polygon, contains: p(4, 5)), "on the hole's edge: boundary belongs to the territory")
        XCTAssertTrue(Geometry.polygon(polygon, contains: p(3.9999, 5)))
        XCTAssertFalse(Geometry.polygon(polygon, contains: p(4.0001, 5)))
        // A ray through a vertex must not count twice.
        let diamond = [[p(0, -1), p(1, 0), p(0, 1), p(-1, 0), p(0, -1)]]
        XCTAssertTrue(Geometry.polygon(diamond, contains: p(0, 0)))
        XCTAssertFalse(Geometry.polygon(diamond, contains: p(-2, 0)))
        XCTAssertFalse(Geometry.polygon(diamond, contains: p(0.9, 0.9)))
    }

    func testHaversineAgainstKnownDistances() {
        // One degree of latitude: π R / 180.
        XCTAssertEqual(Geometry.haversineMiles(p(0, 0), p(0, 1)), Double.pi * Geometry.earthRadiusMiles / 180, accuracy: 1e-9)
        // A quarter of the equator.
        XCTAssertEqual(Geometry.haversineMiles(p(0, 0), p(90, 0)), Double.pi * Geometry.earthRadiusMiles / 2, accuracy: 1e-9)
        // San Francisco (37.7749, -122.4194) to Oakland (37.8044, -122.2712): about 8.4 miles.
        XCTAssertEqual(Geometry.haversineMiles(p(-122.4194, 37.7749), p(-122.2712, 37.8044)), 8.38, accuracy: 0.05)
    }

    func testTerritoriesOfEachKindFindTheirHomes() throws {
        let db = try makeDatabase()
        _ = try db.importFile(try file("properties.csv", """
            property_id,address,city,state,zip,latitude,longitude
            A,1 St,Oakland,CA,94610,5,1
            B,2 St,Oakland,CA,94611,5,5
            C,3 St,Berkeley,CA,94703,5,20
            D,4 St,berkeley,CA,94703,,

            """))
        XCTAssertEqual(try db.propertyIDs(in: .zips(["94610", "94703"])), ["A", "C", "D"])
        XCTAssertEqual(try db.propertyIDs(in: .cities(["BERKELEY"])), ["C", "D"])
        XCTAssertEqual(try db.propertyIDs(in: .polygons([squareWithHole])), ["A"], "B is in the hole, C outside, D has no coordinates")
        let center = p(1, 5)
        XCTAssertEqual(try db.propertyIDs(in: .radius(center: center, miles: 300)), ["A", "B"])  // B is 4° (~276 mi) away
        let contents = try db.territoryContents(.zips(["94610", "94611"]))
        XCTAssertEqual(contents.homes, 2)
        XCTAssertEqual(contents.boundingBox?.southWest, p(1, 5))
        XCTAssertEqual(contents.boundingBox?.northEast, p(5, 5))

        XCTAssertEqual(try db.addTerritory(name: "east", definition: .zips(["94610", "99999"])), ["no properties in zip 99999"])
        XCTAssertEqual(try db.addTerritory(name: "nowhere", definition: .cities(["Atlantis"])),
                       ["no properties in Atlantis", "territory 'nowhere' has no homes"])
        XCTAssertEqual(try db.territories().map(\.name), ["east", "nowhere"])
        XCTAssertEqual(try db.territory(named: "east").definition, .zips(["94610", "99999"]))
        try db.removeTerritory(named: "nowhere")
        XCTAssertThrowsError(try db.territory(named: "nowhere")) { error in
            XCTAssertEqual((error as? ListwiseError)?.exitCode, 2)
            XCTAssertTrue("\(error)".contains("known: east"), "\(error)")
        }
    }

    func testGeoJSONParsingAndErrors() throws {
        let feature = """
            {"type": "FeatureCollection", "features": [
              {"type": "Feature", "properties": {}, "geometry": {"type": "MultiPolygon", "coordinates": [
                [[[0,0],[1,0],[1,1],[0,1],[0,0]]],
                [[[5,5],[6,5],[6,6],[5,6],[5,5]], [[5.2,5.2],[5.8,5.2],[5.8,5.8],[5.2,5.8],[5.2,5.2]]]
              ]}}]}
            """
        let polygons = try Geometry.polygons(geoJSON: Data(feature.utf8), file: "t.geojson")
        XCTAssertEqual(polygons.count, 2)
        XCTAssertEqual(polygons[1].count, 2, "outer ring and a hole")
        let bad: [(String, String)] = [
            ("{", "not valid JSON"),
            (#"{"type": "Point", "coordinates": [1, 2]}"#, "Point is not a Polygon"),
            (#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0.5]]]}"#, "must end where it starts"),
            (#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[0,0]]]}"#, "at least 4 positions"),
            (#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,100],[0,0]]]}"#, "in range"),
            (#"{"type": "FeatureCollection", "features": []}"#, "no polygons"),
        ]
        for (text, message) in bad {
            XCTAssertThrowsError(try Geometry.polygons(geoJSON: Data(text.utf8), file: "t.geojson"), text) { error in
                XCTAssertEqual((error as? ListwiseError)?.exitCode, 2)
                XCTAssertTrue("\(error)".contains(message), "\(text): \(error)")
            }
        }
    }
}
