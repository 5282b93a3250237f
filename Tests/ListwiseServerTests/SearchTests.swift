// Search quality on a hand-built county (prefixes, street-suffix synonyms, one-edit typos, names
// only for export keys, ranking), on SQLite and on PostgreSQL; and the PostgreSQL store serving
// the same pages and homes as SQLite.
import Foundation
import ListwiseKit
import Logging
import PostgresNIO
import XCTest
@testable import ListwiseServer

final class SearchTests: ServerTestCase {
    static let properties = """
        property_id,address,city,state,zip,latitude,longitude
        H1,123 MAIN STREET APT 4,Oakland,CA,94610,37.81,-122.25
        H2,123 Maine Avenue,Oakland,CA,94610,37.82,-122.25
        H3,12 Main Street,Oakland,CA,94611,37.83,-122.24
        H4,77 North Shore Boulevard,Berkeley,CA,94702,37.87,-122.27
        H5,9 Smithfield Court,Berkeley,CA,94702,37.86,-122.28
        H6,500 Oak Lane,Alameda,CA,94501,37.77,-122.24
        H7,501 Oak Ln,Alameda,CA,94501,37.77,-122.25

        """
    static let prospects = """
        prospect_id,property_id,first_name,last_name,email
        X1,H6,Jane,Smith,jane@example.com
        X2,H4,Robert,Johnson,
        X3,H7,José,Núñez,

        """

    func searchStore(_ store: any Store) async throws -> any Store {
        try properties().write(toFile: path("properties.csv"), atomically: true, encoding: .utf8)
        try Self.prospects.write(toFile: path("prospects.csv"), atomically: true, encoding: .utf8)
        _ = try await store.importFile(path("properties.csv"), kind: .properties, options: ImportOptions(), progress: nil)
        _ = try await store.importFile(path("prospects.csv"), kind: .prospects, options: ImportOptions(), progress: nil)
        _ = try await store.addTerritory(name: "oakland", definition: .cities(["Oakland"]))
        return store
    }

    func properties() -> String { Self.properties }

    func checkSearchQuality(_ store: any Store) async throws {
        let reader = try await key(store, "reader")
        let exporter = try await key(store, "exporter", scope: .export)
        let oakland = try await key(store, "oakland", scope: .export, territories: ["oakland"])
        let api = try await startServer(store)

        func ids(_ query: String, _ key: String) async throws -> [String] {
            let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let answer = try await api.get("/v1/search?q=\(encoded)", key: key)
            XCTAssertEqual(answer.status, 200, answer.text)
            return (try answer.json()["hits"] as! [[String: Any]]).map { $0["property_id"] as! String }
        }
        func matches(_ query: String, _ key: String) async throws -> [String] {
            let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            return (try await api.get("/v1/search?q=\(encoded)", key: key).json()["hits"] as! [[String: Any]]).map { $0["match"] as! String }
        }

        // "123 main st" finds "123 MAIN STREET APT 4": prefixes and the suffix's spellings; the
        // home that matches every word as typed comes first.
        let main = try await ids("123 main st", reader)
        XCTAssertEqual(main.first, "H1")
        XCTAssertFalse(main.contains("H3"), "12 is not 123")
        let value1 = try await ids("123 MAIN STREET apt 4", reader)
        XCTAssertEqual(value1, ["H1"])
        let value2 = try await ids("77 n shore blvd", reader)
        XCTAssertEqual(value2, ["H4"], "directionals and suffixes both ways")
        let value3 = try await ids("oak lane", reader)
        XCTAssertEqual(Set(value3), ["H6", "H7"], "LANE finds Ln")
        let value4 = try await ids("smithfield", reader)
        XCTAssertEqual(value4, ["H5"])
        // Typos: one edit away, marked as such, after the exact matches.
        let value5 = try await ids("smithfeld", reader)
        XCTAssertEqual(value5, ["H5"])
        let value6 = try await matches("smithfeld", reader)
        XCTAssertEqual(value6, ["typo"])
        let value7 = try await ids("berkely", reader).sorted()
        XCTAssertEqual(value7, ["H4", "H5"], "a city with a typo")
        // Names: an export key finds "Smith" from "smth"; a read key never searches names.
        let value8 = try await ids("smth", exporter).first
        XCTAssertEqual(value8, "H6")
        let value9 = try await ids("jane smith", exporter)
        XCTAssertEqual(value9, ["H6"])
        let value10 = try await ids("robert", reader)
        XCTAssertEqual(value10, [])
        let value11 = try await ids("smith", reader).contains("H6")
        XCTAssertFalse(value11)
        let value12 = try await ids("nunez", exporter)
        XCTAssertEqual(value12, ["H7"], "diacritics folded")
        // A key limited to Oakland finds only Oakland's homes.
        let value13 = try await ids("main", oakland)
        XCTAssertEqual(Set(value13), ["H1", "H2", "H3"])
        let value14 = try await ids("smith", oakland)
        XCTAssertEqual(value14, [])
        // The index follows imports: a new home is found after the keeper rebuilds it.
        let value15 = try await ids("zanzibar", reader)
        XCTAssertEqual(value15, [])
        try "property_id,address,city,state,zip\nH8,1 Zanzibar Way,Oakland,CA,94610\n".write(toFile: path("more.csv"), atomically: true, encoding: .utf8)
        _ = try await store.importFile(path("more.csv"), kind: .properties, options: ImportOptions(), progress: nil)
        let value16 = try await store.searchIndexState().isStale
        XCTAssertTrue(value16)
        _ = try await store.rebuildSearchIndex(now: Date())
        let value17 = try await ids("zanzibar", reader)
        XCTAssertEqual(value17, ["H8"])
    }

    func testSearchFindsPrefixesSynonymsTyposAndNamesOnSQLite() async throws {
        try await checkSearchQuality(try await searchStore(try AppDatabase(path: path("search.db"))))
    }

    func testSearchFindsPrefixesSynonymsTyposAndNamesOnPostgreSQL() async throws {
        let store = try await openPostgres()
        try await checkSearchQuality(try await searchStore(store))
    }

    /// The PostgreSQL store serves the same pages (all of them), homes and history as SQLite.
    func testPostgreSQLServesTheSamePagesAndHomes() async throws {
        let store = try await sampleStore(try await openPostgres())
        let key = try await key(store, "k", scope: .export)
        let api = try await startServer(store)
        let run = try await store.scoreRun(id: nil, territory: "east")
        let expected = try await store.scoredHomes(runID: run.id, limit: nil)
        var ids: [String] = [], cursor: String?
        repeat {
            let page = try await api.get("/v1/territories/east/scores?limit=700" + (cursor.map { "&cursor=\($0)" } ?? ""), key: key).json()
            ids += (page["homes"] as! [[String: Any]]).map { $0["property_id"] as! String }
            cursor = page["next_cursor"] as? String
        } while cursor != nil
        XCTAssertEqual(ids, expected.map(\.propertyID))
        let high = try await api.get("/v1/territories/east/scores?limit=1000&tier=High&zip=94503", key: key).json()
        XCTAssertEqual((high["homes"] as! [[String: Any]]).map { $0["property_id"] as! String },
                       expected.filter { $0.tier == "High" && $0.zip == "94503" }.map(\.propertyID))

        try await score(store, territory: "east")
        let home = try await api.get("/v1/homes/\(expected[0].propertyID)", key: key).json()
        let history = home["scores"] as! [[String: Any]]
        XCTAssertEqual(history.count, 2)
        XCTAssertEqual(history.map { $0["run_id"] as! Int }, history.map { $0["run_id"] as! Int }.sorted(by: >), "newest run first")
        XCTAssertEqual(history.last?["probability"] as! Double, expected[0].probability, accuracy: 1e-15)
        XCTAssertEqual(history.last?["reasons"] as? [String], [expected[0].reason1, expected[0].reason2, expected[0].reason3].compactMap { $0 })
        XCTAssertFalse((home["people"] as? [[String: Any]] ?? []).isEmpty)

        let sqlite = try await sampleStore()
        let sqliteHome = try await sqlite.home(id: expected[0].propertyID, historyLimit: 1)
        let postgresHome = try await store.home(id: expected[0].propertyID, historyLimit: 1)
        XCTAssertEqual(sqliteHome?.property, postgresHome?.property)
        XCTAssertEqual(sqliteHome?.prospects, postgresHome?.prospects)
    }
}
