// `listwise territory add|list|show|remove`: named territories stored in the database (SPEC §3).
import ArgumentParser
import Foundation
import ListwiseKit

struct TerritoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "territory",
        abstract: "Define, list, show and remove territories.",
        discussion: """
            A territory is a set of zip codes, cities, a GeoJSON Polygon/MultiPolygon (holes allowed; a home on the boundary is inside), or a centre and a radius in miles (great-circle distance).

            Examples:
              listwise territory add east-bay --zips 94610,94611
              listwise territory add downtown --center 37.80,-122.27 --radius-miles 1.5
              listwise territory show east-bay
            """,
        subcommands: [Add.self, List.self, Show.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add (or replace) a territory.",
            discussion: "Writes the territories table. Warns about zips or cities with no properties and about territories with no homes; a malformed GeoJSON file is refused (exit 2).")

        @Argument(help: "Territory name.") var name: String
        @Option(help: ArgumentHelp("Comma-separated zip codes.", valueName: "zips")) var zips: String?
        @Option(help: ArgumentHelp("Comma-separated city names.", valueName: "cities")) var cities: String?
        @Option(help: ArgumentHelp("GeoJSON file with Polygon or MultiPolygon geometry.", valueName: "file")) var geojson: String?
        @Option(help: ArgumentHelp("Centre as LAT,LON (with --radius-miles).", valueName: "lat,lon")) var center: String?
        @Option(help: ArgumentHelp("Radius in miles (with --center).", valueName: "miles")) var radiusMiles: Double?
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            let given = [zips != nil, cities != nil, geojson != nil, center != nil || radiusMiles != nil].filter { $0 }.count
            guard given == 1 else { throw ValidationError("give exactly one of --zips, --cities, --geojson, or --center with --radius-miles") }
            if center != nil || radiusMiles != nil {
                guard center != nil, let radiusMiles, radiusMiles > 0 else {
                    throw ValidationError("--center needs --radius-miles, a positive number")
                }
            }
        }

        func definition() throws -> TerritoryDefinition {
            func list(_ text: String) -> [String] {
                text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            if let zips {
                let values = list(zips)
                guard !values.isEmpty, values.allSatisfy({ $0.count == 5 && $0.allSatisfy(\.isNumber) }) else {
                    throw ValidationError("--zips must be 5-digit zip codes separated by commas")
                }
                return .zips(values)
            }
            if let cities {
                guard !list(cities).isEmpty else { throw ValidationError("--cities needs at least one city") }
                return .cities(list(cities))
            }
            if let geojson {
                guard let data = FileManager.default.contents(atPath: geojson) else {
                    throw ListwiseError.usage("\(geojson): cannot read the GeoJSON file")
                }
                return .polygons(try Geometry.polygons(geoJSON: data, file: geojson))
            }
            let parts = center!.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, (-90...90).contains(parts[0]), (-180...180).contains(parts[1]) else {
                throw ValidationError("--center must be LAT,LON, e.g. 37.80,-122.27")
            }
            return .radius(center: GeoPoint(latitude: parts[0], longitude: parts[1]), miles: radiusMiles!)
        }

        func run() async throws {
            let definition = try definition()
            let contents = try await database.withStore { store in
                let warnings = try await store.addTerritory(name: name, definition: definition)
                for warning in warnings { Terminal.warning(warning) }
                return try await store.territoryContents(definition)
            }
            Terminal.line("territory \(name): \(definition.summary), \(contents.homes.grouped) homes")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List territories with their home counts.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await database.withStore { store in
                let all = try await store.territories()
                if all.isEmpty { Terminal.line("no territories (add one with 'listwise territory add')") }
                for territory in all {
                    let homes = try await store.territoryContents(territory.definition).homes
                    print("\(territory.name)\t\(homes) homes\t\(territory.definition.summary)")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a territory: definition, homes inside, bounding box.")
        @Argument(help: "Territory name.") var name: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (territory, contents) = try await database.withStore { store in
                let territory = try await store.territory(named: name)
                return (territory, try await store.territoryContents(territory.definition))
            }
            print("territory: \(territory.name)")
            print("definition: \(territory.definition.summary)")
            print("homes: \(contents.homes)")
            if let box = contents.boundingBox {
                print(String(format: "bounding box: %.5f,%.5f to %.5f,%.5f", box.southWest.latitude, box.southWest.longitude,
                             box.northEast.latitude, box.northEast.longitude))
            } else {
                print("bounding box: none (no homes with coordinates)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a territory (its past score runs are kept).")
        @Argument(help: "Territory name.") var name: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await database.withStore { try await $0.removeTerritory(named: name) }
            Terminal.line("removed territory \(name)")
        }
    }
}
