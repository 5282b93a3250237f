// Import into PostgreSQL against the SQLite import of the same files: the same summaries, the
// same rejects, the same data, and idempotence (a real server: see PostgresStoreTests).
import Foundation
import GRDB
import Logging
import PostgresNIO
import XCTest
@testable import ListwiseKit

final class PostgresImportTests: TemporaryFolderTestCase {
    private func counts(_ summary: ImportSummary) -> [Int] {
        [summary.rows, summary.inserted, summary.updated, summary.unchanged, summary.rejected]
    }

    /// Per table, the same figures computed on both stores (types differ: dates, booleans).
    private let checks: [(table: String, sqlite: String, postgres: String)] = [
        ("properties", "SELECT count(*), sum(living_sqft), round(sum(latitude), 6), sum(owner_occupied), count(zip4), max(property_type) FROM properties",
         "SELECT concat_ws('|', count(*), sum(living_sqft), round(sum(latitude)::numeric, 6)::float8, sum(owner_occupied::int), count(zip4), max(property_type)) FROM properties"),
        ("owners", "SELECT count(*), max(owner_since), sum(absentee), sum(owner_birth_year) FROM owners",
         "SELECT concat_ws('|', count(*), max(owner_since)::text, sum(absentee::int), sum(owner_birth_year)) FROM owners"),
        ("prospects", "SELECT count(*), count(email), sum(do_not_mail), max(last_name), count(DISTINCT property_id) FROM prospects",
         "SELECT concat_ws('|', count(*), count(email), sum(do_not_mail::int), max(last_name), count(DISTINCT property_id)) FROM prospects"),
        ("events", "SELECT count(*), sum(amount), round(sum(rate), 6), min(event_date), count(DISTINCT event_type) FROM events",
         "SELECT concat_ws('|', count(*), sum(amount), round(sum(rate)::numeric, 6)::float8, min(event_date)::text, count(DISTINCT event_type)) FROM events"),
    ]

    /// Imports the county's four files into both stores (SQLite first), checking the same
    /// summaries and rejects (`rejectsInFileOrder`: also in the same order; the staged path lists
    /// unknown homes after the other rejects) and that a rejects file exists only with rejects.
    private func importBoth(_ county: String, _ sqlite: AppDatabase, _ store: PostgresStore, rejectsInFileOrder: Bool) async throws {
        for kind in ImportKind.importOrder {
            let file = county + "/\(kind.rawValue).csv"
            var options = ImportOptions()
            options.rejectsPath = path("\(kind.rawValue).sqlite.rejects.csv")
            let expected = try sqlite.importFile(file, kind: kind, options: options)
            options.rejectsPath = path("\(kind.rawValue).postgres.rejects.csv")
            let got = try await store.importFile(file, kind: kind, options: options)
            XCTAssertEqual(counts(got), counts(expected), kind.rawValue)
            XCTAssertEqual(got.rejectedByReason, expected.rejectedByReason, kind.rawValue)
            XCTAssertEqual(FileManager.default.fileExists(atPath: path("\(kind.rawValue).postgres.rejects.csv")), expected.rejected > 0)
            if expected.rejected > 0 {
                let have = try rejectsRows(path("\(kind.rawValue).postgres.rejects.csv"))
                let want = try rejectsRows(path("\(kind.rawValue).sqlite.rejects.csv"))
                XCTAssertEqual(rejectsInFileOrder ? have : have.sorted(), rejectsInFileOrder ? want : want.sorted(), kind.rawValue)
            }
        }
    }

    /// Every table's figures are the same on both stores.
    private func assertSameTables(_ sqlite: AppDatabase, _ store: PostgresStore) async throws {
        for check in checks {
            let want = try figures(sqlite, check.sqlite)
            let have = try await figures(store, check.postgres)
            XCTAssertEqual(have, want, check.table)
        }
    }

    /// The homes the server store lists `prospect` at.
    private func homes(of prospect: String, in store: PostgresStore) async throws -> [String] {
        var homes: [String] = []
        for try await home in try await store.client.query(
            "SELECT property_id FROM prospects WHERE prospect_id = \(prospect)", logger: PostgresStoreTests.logger).decode(String.self) {
            homes.append(home)
        }
        return homes
    }

    private func figures(_ store: PostgresStore, _ sql: String) async throws -> String {
        var text = ""
        for try await row in try await store.client.query(PostgresQuery(unsafeSQL: sql),
                                                               logger: PostgresStoreTests.logger).decode(String.self) {
            text = row
        }
        return text
    }

    private func figures(_ db: AppDatabase, _ sql: String) throws -> String {
        try db.read { db in
            let row = try Row.fetchOne(db, sql: sql)!
            return row.databaseValues.map { value -> String in
                switch value.storage {
                case .null: return ""
                case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d).replacingOccurrences(of: ".0", with: "") : String(d)
                default: return String(describing: value).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                }
            }.joined(separator: "|")
        }
    }

    func testSameSummariesRejectsAndDataAsSQLiteAndIdempotent() async throws {
        let location = try await PostgresStoreTests.freshDatabase(for: self)
        let store = try await PostgresStore.open(location)
        addTeardownBlock { await store.close() }
        let county = path("county")
        _ = try SampleGenerator(settings: SampleSettings(properties: 300, seed: 17)).write(to: county)
        // Dirty rows on top of the generated files: bad values, an unknown home, a key repeated
        // with other values, an event given twice, and a prospect moving to another home.
        let events = try String(contentsOfFile: county + "/events.csv", encoding: .utf8)
        try (events + """
            06001000001,SALE,2024-02-30,100,
            06001000001,LISTING,2024-03-01,abc,
            NOPE,SALE,2024-03-01,100,
            06001000002,VALUATION,2025-01-01,900000,
            06001000002,VALUATION,2025-01-01,900000,

            """).write(toFile: county + "/events.csv", atomically: true, encoding: .utf8)
        let prospects = try String(contentsOfFile: county + "/prospects.csv", encoding: .utf8)
        let firstProspect = String(prospects.split(separator: "\n")[1].split(separator: ",")[0])
        let header = prospects.split(separator: "\n")[0]
        try (prospects + """
            XP1,06001000003,Ann,First,,,,,,,,,,
            XP1,06001000003,Ann,Second,,,,,,,,,,
            \(firstProspect),06001000004,Moved,Owner,,,,,,,,,,
            XP2,NOPE,No,Home,,,,,,,,,,

            """).write(toFile: county + "/prospects.csv", atomically: true, encoding: .utf8)
        XCTAssertEqual(header.split(separator: ",", omittingEmptySubsequences: false).count, 14, "the dirty rows' width")

        let sqlite = try makeDatabase()
        try await importBoth(county, sqlite, store, rejectsInFileOrder: false)
        try await assertSameTables(sqlite, store)
        // The moved prospect lives at its new home only.
        let moved = try await homes(of: firstProspect, in: store)
        XCTAssertEqual(moved, ["06001000004"])

        // Again: nothing new, the same counts as SQLite (the file's own repeated keys update back and forth).
        for kind in ImportKind.importOrder {
            var options = ImportOptions()
            options.rejectsPath = path("again.rejects.csv")
            let expected = try sqlite.importFile(county + "/\(kind.rawValue).csv", kind: kind, options: options)
            let again = try await store.importFile(county + "/\(kind.rawValue).csv", kind: kind, options: options)
            XCTAssertEqual(again.inserted, 0, kind.rawValue)
            XCTAssertEqual(counts(again), counts(expected), kind.rawValue)
            XCTAssertEqual(again.updated, kind == .prospects ? 4 : 0, "\(kind.rawValue): only the file's own repeated keys")
        }
        let counts = try await store.dataCounts()
        XCTAssertEqual(counts, try sqlite.dataCounts())

        // A refused file changes nothing.
        let refused = try file("bad.csv", "property_id,event_type\n06001000001,SALE\n")
        do {
            _ = try await store.importFile(refused, kind: .events)
            XCTFail("a file without event_date was imported")
        } catch {
            XCTAssertEqual((error as? ListwiseError)?.exitCode, 2, "\(error)")
        }
        let after = try await store.dataCounts()
        XCTAssertEqual(after, counts)
    }

    /// A first load of a file in key order goes straight into the table; one that names a home
    /// the store lacks, or a prospect at two homes, must come out as on SQLite all the same.
    func testFirstLoadsInKeyOrderWithAnUnknownHomeOrAMovedProspect() async throws {
        let location = try await PostgresStoreTests.freshDatabase(for: self)
        let store = try await PostgresStore.open(location)
        addTeardownBlock { await store.close() }
        let county = path("county")
        _ = try SampleGenerator(settings: SampleSettings(properties: 200, seed: 5)).write(to: county)
        // An unknown home in the middle of a property-ordered events file (no repeated key).
        var events = try String(contentsOfFile: county + "/events.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        let header = events.removeFirst()
        XCTAssertTrue(try ImportSource.comesInKeyOrder(path: county + "/events.csv", kind: .events, mapping: ColumnMapping()))
        events.insert(events[events.count / 2].replacingOccurrences(of: "06001", with: "06999"), at: events.count / 2 + 1)
        try ([header] + events).joined(separator: "\n").appending("\n").write(toFile: county + "/events.csv", atomically: true, encoding: .utf8)
        // The first prospect listed again at another home, later in the file (no repeated store key).
        let prospects = try String(contentsOfFile: county + "/prospects.csv", encoding: .utf8)
        let firstProspect = String(prospects.split(separator: "\n")[1].split(separator: ",")[0])
        try (prospects + "\(firstProspect),06001000150,Moved,Owner,,,,,,,,,,\n").write(toFile: county + "/prospects.csv", atomically: true, encoding: .utf8)

        let sqlite = try makeDatabase()
        try await importBoth(county, sqlite, store, rejectsInFileOrder: true)
        let serverCounts = try await store.dataCounts()
        XCTAssertEqual(serverCounts, try sqlite.dataCounts())
        try await assertSameTables(sqlite, store)
        let moved = try await homes(of: firstProspect, in: store)
        XCTAssertEqual(moved, ["06001000150"])
        var newest: String?
        for try await date in try await store.client.query("SELECT max(newest_event_date)::text FROM imports", logger: PostgresStoreTests.logger)
            .decode(String?.self) {
            newest = date
        }
        XCTAssertEqual(newest, try sqlite.read { db in try String.fetchOne(db, sql: "SELECT max(event_date) FROM events") })
    }
}
