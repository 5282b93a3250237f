// The store: migrations, WAL, schema constraints, and the shipped market-rate table.
import Foundation
import GRDB
import XCTest
@testable import ListwiseKit

final class AppDatabaseTests: TemporaryFolderTestCase {
    func testMigratesIntoWALWithTheDataTables() throws {
        let db = try makeDatabase()
        XCTAssertEqual(try db.appliedMigrations(), ["v1-data-tables", "v2-territories-and-scores", "v3-drop-scores-rank-index", "v4-campaigns-and-suppression", "v5-refresh-runs"])
        try db.read { db in
            XCTAssertEqual(try String.fetchOne(db, sql: "PRAGMA journal_mode"), "wal")
            for table in ["properties", "owners", "prospects", "events", "imports"] {
                XCTAssertTrue(try db.tableExists(table), table)
            }
            XCTAssertTrue(try db.indexes(on: "properties").contains { $0.columns == ["zip"] })
            XCTAssertEqual(try db.primaryKey("events").columns, ["property_id", "event_date", "event_type", "amount", "rate"])
        }
        // Reopening does not migrate again.
        XCTAssertEqual(try AppDatabase(path: path("test.db")).appliedMigrations().count, 5)
    }

    func testSchemaRefusesWhatTheImporterWouldReject() throws {
        let db = try makeDatabase()
        try importBaseProperties(db)  // an import switches foreign keys off for its transaction only
        let bad = [
            "INSERT INTO properties (property_id, address, city, state, zip) VALUES ('X', 'a', 'b', 'CA', '9411')",
            "INSERT INTO events VALUES ('P1', '2023-2-3', 'SALE', 1, -1)",
            "INSERT INTO events VALUES ('P1', '2023-02-01', 'AUCTION', 1, -1)",
            "INSERT INTO events VALUES ('NOPE', '2023-02-01', 'SALE', 1, -1)",
            "INSERT INTO owners VALUES ('P1', '2023-02-01', 1950, 2, 0)",
        ]
        for sql in bad {
            XCTAssertThrowsError(try db.writer.write { try $0.execute(sql: sql) }, sql)
        }
    }

    func testNotADatabaseIsAUsageError() throws {
        let notDB = try file("notes.db", String(repeating: "just text\n", count: 200))
        XCTAssertThrowsError(try AppDatabase(path: notDB)) { error in
            XCTAssertEqual((error as? ListwiseError)?.exitCode, 2, "\(error)")
        }
        XCTAssertThrowsError(try AppDatabase(path: path("no/such/folder/x.db"))) { error in
            XCTAssertEqual((error as? ListwiseError)?.exitCode, 2, "\(error)")
        }
    }

    func testShippedRateTableMatchesDataFolder() throws {
        let dataFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Data/mortgage_rates_30y.csv").path
        XCTAssertEqual(try MarketRates.load(path: dataFile), MarketRates.standard)
        XCTAssertEqual(MarketRates.standard.ratePercent(year: 2021, month: 6).rate, 2.96)
        XCTAssertEqual(MarketRates.standard.ratePercent(year: 2030, month: 1).carried, true)
        let monthly = try file("monthly.csv", "month,rate_percent\n2020-01,3.5\n2020-03,3.25\n")
        let rates = try MarketRates.load(path: monthly)
        XCTAssertEqual(rates.ratePercent(year: 2020, month: 2).rate, 3.5, "a gap carries the previous month")
        XCTAssertEqual(rates.ratePercent(year: 2020, month: 3).rate, 3.25)
        XCTAssertThrowsError(try MarketRates.load(path: try file("bad.csv", "when,rate\n2020,3\n")))
    }
}
