// Refresh on a PostgreSQL store: the inbox imported, the county and every territory rescored as
// on SQLite; the lock is an advisory lock (exit 3 while another session holds it, free again
// when that session's connection dies); a run killed mid-way is marked failed by the next.
import Foundation
import Logging
import PostgresNIO
import XCTest
@testable import ListwiseKit

final class PostgresRefreshTests: TemporaryFolderTestCase {
    private let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func testRefreshRescoresLikeSQLiteUnderAnAdvisoryLock() async throws {
        let (sqlite, postgres, zips) = try await bothStores(properties: 700)
        let model = try sqlite.trainModel(TrainingSettings()).model
        let models = path("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try model.write(to: models + "/m.json")
        try sqlite.addTerritory(name: "north", definition: .zips([zips[0]]))
        try await postgres.addTerritory(name: "north", definition: .zips([zips[0]]))
        // New events arrive in each store's inbox: the same file.
        let events = "property_id,event_type,event_date,amount,rate\n"
            + (try sqlite.read { db in try String.fetchAll(db, sql: "SELECT property_id FROM properties ORDER BY property_id LIMIT 5") })
                .map { "\($0),LISTING,2025-11-02,450000," }.joined(separator: "\n") + "\n"
        var reports: [RefreshReport] = []
        for (index, store) in [sqlite as any Store, postgres].enumerated() {
            let inbox = path("inbox\(index)")
            try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
            try events.write(toFile: inbox + "/events-new.csv", atomically: true, encoding: .utf8)
            var settings = RefreshSettings(inbox: inbox, asOfDay: DayNumber.from(year: 2025, month: 12, day: 31))
            settings.modelsFolder = models
            reports.append(try await store.refresh(settings, logger: logger))
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: inbox + "/processed"), ["events-new.csv"])
        }
        XCTAssertEqual(reports[1].processed, reports[0].processed)
        XCTAssertEqual(reports[1].scoreRuns.count, 2, "the county and territory north")
        for (a, b) in zip(reports[0].scoreRuns, reports[1].scoreRuns) {
            let expected = try sqlite.scoredHomes(runID: a)
            let got = try await postgres.scoredHomes(runID: b, limit: nil)
            XCTAssertEqual(got.map(\.propertyID), expected.map(\.propertyID))
            XCTAssertEqual(got.map(\.rank), expected.map(\.rank))
            XCTAssertEqual(got.map(\.onMarket).filter { $0 }.count, expected.map(\.onMarket).filter { $0 }.count)
        }

        // Another host holds the lock: exit 3 at once, naming the lock.
        let other = try await PostgresStore.open(postgres.location)
        try await other.client.query("SELECT pg_advisory_lock(\(PostgresStore.refreshLockKey))", logger: logger)
        var settings = RefreshSettings(inbox: path("inbox1"), asOfDay: DayNumber.from(year: 2025, month: 12, day: 31))
        settings.modelsFolder = models
        do {
            _ = try await postgres.refresh(settings, logger: logger)
            XCTFail("a second refresh ran")
        } catch let error as ListwiseError {
            XCTAssertEqual(error.exitCode, 3)
            XCTAssertTrue(error.description.hasPrefix("another refresh is running on postgresql://"), error.description)
        }
        // The holder's connection dies: the server frees the lock. A run left 'running' by a
        // killed refresh is marked failed by the next one.
        try await postgres.client.query("INSERT INTO refresh_runs (started_at, status) VALUES (now(), 'running')", logger: logger)
        await other.close()
        let after = try await postgres.refresh(settings, logger: logger)
        XCTAssertEqual(after.scoreRuns.count, 2)
        var statuses: [String] = []
        for try await status in try await postgres.client.query("SELECT status FROM refresh_runs ORDER BY id", logger: logger)
            .decode(String.self) {
            statuses.append(status)
        }
        XCTAssertEqual(statuses, ["ok", "failed", "ok"])
    }
}
