// The store: migrations, WAL, schema constraints, and the shipped market-rate table.
import Foundation
import GRDB
import XCTest
@testable import ListwiseKit

final class AppDatabaseTests: TemporaryFolderTestCase {
    func testMigratesIntoWALWithTheDataTables() throws {
        let db = try makeDatabase()
        XCTAssertEqual(try db.appliedMigrations(), ["v1-data-tables", "v10-score-ranks", "v11-campaign-holdouts", "v2-territories-and-scores", "v3-drop-scores-rank-index", "v4-campaigns-and-suppression", "v5-refresh-runs", "v6-newest-event-date", "v7-api-keys", "v8-data-api", "v9-webhooks"])
        try db.read { db in
            XCTAssertEqual(try String.fetchOne(db, sql: "PRAGMA journal_mode"), "wal")
            for table in ["properties", "owners", "prospects", "events", "imports"] {
                XCTAssertTrue(try db.tableExists(table), table)
            }
            XCTAssertTrue(try db.indexes(on: "properties").contains { $0.columns == ["zip"] })
            XCTAssertEqual(try db.primaryKey("events").columns, ["property_id", "event_date", "event_type", "amount", "rate"])
        }
        // Reopening does not migrate again.
        XCTAssertEqual(try AppDatabase(path: path("test.db")).appliedMigrations().count, 11)
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
            XCTAssertThrowsError(try db.write { try $0.execute(sql: sql) }, sql)
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

    func testDatabaseAndItsFilesAreOwnerOnlyWhateverTheUmask() throws {
        let previous = umask(0o022)
        defer { umask(previous) }
        let db = try makeDatabase("private.db")
        try importBaseProperties(db)   // a write: the -wal and -shm files exist now
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue & 0o777
        }
        for suffix in ["", "-wal", "-shm"] {
            XCTAssertEqual(try mode(path("private.db") + suffix), 0o600, "private.db\(suffix)")
        }
        XCTAssertNil(db.permissionWarning)
        let lock = try RefreshLock(databasePath: path("private.db"))
        XCTAssertEqual(try mode(lock.path), 0o600)
        lock.release()
        // Rejected rows (names, emails) are owner-only too.
        _ = try db.importFile(try file("prospects.csv", "prospect_id,property_id,first_name\nA,P1,Ann\nB,NOPE,Bob\n"), kind: .prospects)
        XCTAssertEqual(try mode(path("prospects.csv.rejects.csv")), 0o600)

        // An existing database readable by others: opened, with one warning naming the chmod.
        XCTAssertEqual(chmod(path("private.db"), 0o644), 0)
        let warned = try AppDatabase(path: path("private.db"))
        let warning = try XCTUnwrap(warned.permissionWarning)
        XCTAssertTrue(warning.contains("chmod 600 \(path("private.db"))"), warning)
        XCTAssertTrue(warning.contains("644"), warning)
    }

    func testALockedDatabaseIsAUsageErrorNamingTheFile() throws {
        _ = try makeDatabase("locked.db")
        // Another process's exclusive lock (as the sqlite3 shell's BEGIN EXCLUSIVE in rollback mode,
        // or an exclusive locking mode) keeps every other connection out.
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE") }
        let holder = try DatabaseQueue(path: path("locked.db"), configuration: config)
        try holder.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN EXCLUSIVE; CREATE TABLE holder (x); COMMIT")
        }
        XCTAssertThrowsError(try AppDatabase(path: path("locked.db"), busyTimeoutSeconds: 0.2)) { error in
            XCTAssertEqual((error as? ListwiseError)?.exitCode, 2, "\(error)")
            XCTAssertTrue("\(error)".contains(self.path("locked.db")), "\(error)")
            XCTAssertTrue("\(error)".contains("locked by another process"), "\(error)")
            XCTAssertFalse("\(error)".contains("SQLite error"), "\(error)")
        }
        try holder.close()
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
