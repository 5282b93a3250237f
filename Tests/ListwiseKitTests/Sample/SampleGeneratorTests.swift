// The synthetic county: deterministic, consistent, importable without a single reject.
import Foundation
import GRDB
import XCTest
@testable import ListwiseKit

final class SampleGeneratorTests: TemporaryFolderTestCase {
    func testSameSeedSameFilesAndEveryRowImports() throws {
        let a = path("a"), b = path("b"), c = path("c")
        let counts = try SampleGenerator(settings: SampleSettings(properties: 300, seed: 11)).write(to: a)
        _ = try SampleGenerator(settings: SampleSettings(properties: 300, seed: 11)).write(to: b)
        _ = try SampleGenerator(settings: SampleSettings(properties: 300, seed: 12)).write(to: c)
        for name in ["properties.csv", "owners.csv", "prospects.csv", "events.csv"] {
            let first = try Data(contentsOf: URL(fileURLWithPath: a + "/" + name))
            XCTAssertEqual(first, try Data(contentsOf: URL(fileURLWithPath: b + "/" + name)), name)
            XCTAssertNotEqual(first, try Data(contentsOf: URL(fileURLWithPath: c + "/" + name)), name)
        }
        XCTAssertEqual(counts.properties, 300)
        XCTAssertGreaterThan(Double(counts.events) / 300, 10, "a long history per home")

        let db = try makeDatabase()
        for kind in ImportKind.importOrder {
            let summary = try db.importFile(a + "/\(kind.rawValue).csv", kind: kind)
            XCTAssertEqual(summary.rejected, 0, kind.rawValue)
            XCTAssertEqual(summary.unknownColumns, [], kind.rawValue)
        }
        XCTAssertEqual(try db.dataCounts(), DataCounts(properties: counts.properties, owners: counts.owners,
                                                      prospects: counts.prospects, events: counts.events))
        try db.read { db in
            // Every owner period starts with a SALE on that day, and every property has an owner.
            let unmatched = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM owners o WHERE NOT EXISTS (
                    SELECT 1 FROM events e WHERE e.property_id = o.property_id AND e.event_date = o.owner_since
                    AND e.event_type = 'SALE')
                """)
            XCTAssertEqual(unmatched, 0)
            let ownerless = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM properties p WHERE NOT EXISTS (SELECT 1 FROM owners o WHERE o.property_id = p.property_id)
                """)
            XCTAssertEqual(ownerless, 0)
            // Listings end in a sale or a withdrawal, except those still on the market at the end.
            let listings = try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE event_type = 'LISTING'") ?? 0
            let ends = try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE event_type = 'DELISTING'") ?? 0
            XCTAssertGreaterThan(listings, 0)
            XCTAssertLessThan(ends, listings)
            // No event after the end of the simulated history.
            XCTAssertEqual(try String.fetchOne(db, sql: "SELECT max(event_date) FROM events")?.prefix(4), "2025")
        }
    }

    func testListingRateDependsOnTenureNonLinearly() throws {
        // Share of owners who list within a year, by tenure band, on 3,000 homes at 2018-01-01.
        let db = try importedCounty(properties: 3000, seed: 5)
        let rates = try db.read { db in
            try Row.fetchAll(db, sql: """
                WITH current AS (
                    SELECT property_id, max(owner_since) AS since FROM owners WHERE owner_since <= '2018-01-01' GROUP BY property_id),
                banded AS (
                    SELECT c.property_id, CASE WHEN julianday('2018-01-01') - julianday(since) < 730 THEN 0
                                               WHEN julianday('2018-01-01') - julianday(since) < 4380 THEN 1 ELSE 2 END AS band,
                           EXISTS (SELECT 1 FROM events e WHERE e.property_id = c.property_id AND e.event_type = 'LISTING'
                                   AND e.event_date > '2018-01-01' AND e.event_date <= '2019-01-01') AS listed
                    FROM current c)
                SELECT band, avg(listed) AS rate FROM banded GROUP BY band ORDER BY band
                """).map { $0["rate"] as Double }
        }
        XCTAssertEqual(rates.count, 3)
        XCTAssertLessThan(rates[0], rates[1], "new owners list less than owners of 2–12 years: \(rates)")
    }
}
