// `db copy`: a store with every table filled goes to PostgreSQL and back unchanged (JSON
// columns compared as JSON: the server keeps jsonb), the server copy answers like the file,
// and a store that is not empty is refused.
import Foundation
import GRDB
import Logging
import XCTest
@testable import ListwiseKit

final class StoreCopyTests: TemporaryFolderTestCase {
    /// Every row of every table, JSON columns parsed and re-encoded with sorted keys.
    private func contents(_ db: AppDatabase) throws -> [String: [String]] {
        try db.read { db in
            var all: [String: [String]] = [:]
            for table in StoreCopy.tables {
                all[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table)").map { row in
                    row.databaseValues.map { value -> String in
                        if case .string(let text) = value.storage, text.hasPrefix("{"),
                           let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)),
                           let sorted = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                            return String(decoding: sorted, as: UTF8.self)
                        }
                        return "\(value)"
                    }.joined(separator: "|")
                }.sorted()
            }
            return all
        }
    }

    func testASQLiteStoreGoesToPostgreSQLAndBackUnchanged() async throws {
        let (sqlite, postgres, zips) = try await bothStores(properties: 500)
        // The server database of `bothStores` has data: copy into a fresh one.
        await postgres.close()
        let target = try await PostgresStore.open(try await PostgresStoreTests.freshDatabase(for: self))
        addTeardownBlock { await target.close() }
        let model = try sqlite.trainModel(TrainingSettings()).model
        try sqlite.addTerritory(name: "north", definition: .zips([zips[0]]))
        let run = try sqlite.score(model: model, settings: ScoreSettings(asOfDay: DayNumber.from(year: 2025, month: 6, day: 30),
                                                                       territory: "north", modelFile: "m.json"))
        _ = try await sqlite.export(ExportSettings(campaign: "spring", channel: .mail, selection: .top(40), territory: "north"),
                                    to: path("list.csv")) { _ in }
        _ = try sqlite.suppress(file: try file("optout.csv", "email\nann@example.com\n"))
        let refreshID = try sqlite.startRefreshRun(at: Date())
        try sqlite.finishRefreshRun(refreshID, status: "ok", report: RefreshReport(), error: nil)
        let key = try await sqlite.createAPIKey(name: "crm", scope: .read, territories: ["north"],
                                                allowedOrigins: ["https://crm.example.com"], now: Date())
        let before = try contents(sqlite)
        XCTAssertTrue(StoreCopy.tables.allSatisfy { !(before[$0] ?? []).isEmpty }, "every table has rows: \(before.mapValues(\.count))")

        let there = try await StoreCopy.copy(from: sqlite, to: target)
        XCTAssertEqual(there.rows, before.mapValues(\.count))
        // The server copy answers as the file does, and its identities go on after the copied ids.
        let homes = try await target.scoredHomes(runID: run.runID, limit: nil)
        XCTAssertEqual(homes, try sqlite.scoredHomes(runID: run.runID))
        let next = try await target.score(model: model, settings: ScoreSettings(asOfDay: DayNumber.from(year: 2025, month: 6, day: 30),
                                                                                 territory: "north", modelFile: "m.json"))
        XCTAssertEqual(next.runID, run.runID + 1)
        let movedKey = try await target.apiKey(secret: key.secret)
        XCTAssertEqual(movedKey?.territories, ["north"], "API keys move with the store (their hashes)")

        do {
            _ = try await StoreCopy.copy(from: sqlite, to: target)
            XCTFail("a copy went into a store that has data")
        } catch let error as ListwiseError {
            XCTAssertEqual(error.exitCode, 2)
            XCTAssertTrue(error.description.contains("is not empty (properties: 500"), error.description)
        }

        let back = path("back.db")
        let returned = try await StoreCopy.copy(from: target, toSQLiteAt: back)
        XCTAssertEqual(returned.rows["scores"], before["scores"]!.count * 2, "with the run scored on the server")
        var after = try contents(try AppDatabase(path: back))
        after["score_runs"] = Array(after["score_runs"]!.prefix(1))
        after["scores"] = after["scores"]!.filter { $0.hasPrefix("1|") || $0.hasPrefix("\(run.runID)|") }
        XCTAssertEqual(after, before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: back + ".copying"))
        // The file's rank order (score_ranks, not a server table) is rebuilt: the Data API pages
        // of the copied run are the original's.
        let copied = try AppDatabase(path: back)
        let ranksCount = try copied.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM score_ranks") }
        XCTAssertEqual(ranksCount, returned.rows["scores"])
        let original = try await sqlite.scoresPage(runID: run.runID, filter: ScoreFilter(), after: nil, limit: 1000)
        XCTAssertGreaterThan(original.count, 10)
        let copiedPage = try await copied.scoresPage(runID: run.runID, filter: ScoreFilter(), after: nil, limit: 1000)
        XCTAssertEqual(copiedPage, original)
    }
}
