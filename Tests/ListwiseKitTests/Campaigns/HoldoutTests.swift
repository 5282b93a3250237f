// Holdout groups of exports (issue 17): draws reproducible with the seed and balanced by tier, the
// control group recorded as held out and never exported by the campaign later, and a frequency
// cap that does not count held-out prospects as contacted.
import Foundation
import GRDB
import XCTest
@testable import ListwiseKit

final class HoldoutTests: TemporaryFolderTestCase {
    func testPermutedBlocksHoldOutExactlyThePercentInEveryStratumAndRepeatWithTheSeed() {
        func draws(seed: Int, percent: Int, order: [String]) -> [String: [Bool]] {
            var draw = HoldoutDraw(HoldoutSettings(percent: percent, seed: seed))
            var out: [String: [Bool]] = [:]
            for stratum in order { out[stratum, default: []].append(draw.holdsOut(stratum: stratum)) }
            return out
        }
        let interleaved = (0..<3000).map { ["High", "Medium", "Low"][$0 % 3] }
        let a = draws(seed: 7, percent: 10, order: interleaved)
        for (stratum, held) in a {
            XCTAssertEqual(held.count, 1000)
            // Blocks of 10 with exactly one held out in each.
            for block in stride(from: 0, to: 1000, by: 10) {
                XCTAssertEqual(held[block..<block + 10].filter { $0 }.count, 1, "\(stratum) block \(block / 10)")
            }
        }
        XCTAssertEqual(draws(seed: 7, percent: 10, order: interleaved), a, "same seed, same draw")
        // A tier's draw does not depend on how the tiers interleave.
        XCTAssertEqual(draws(seed: 7, percent: 10, order: interleaved.sorted()), a)
        XCTAssertNotEqual(draws(seed: 8, percent: 10, order: interleaved)["High"], a["High"], "another seed, another draw")
        XCTAssertNotEqual(a["High"], a["Low"], "tiers draw from generators of their own")
        // 15 %: blocks of 20 with 3 held out.
        let fifteen = draws(seed: 1, percent: 15, order: Array(repeating: "High", count: 400))["High"]!
        XCTAssertEqual(fifteen.filter { $0 }.count, 60)
        XCTAssertEqual(HoldoutDraw(HoldoutSettings(percent: 15, seed: 1)).blockSize, 20)
    }

    /// `homes` homes H0001... with one prospect each (a mail household and an email each), scored
    /// by a hand-made run 1 of territory "county": probability falls with the number, High the top
    /// 20 %, Medium the next 30 %.
    private func countyDatabase(homes: Int) throws -> AppDatabase {
        let db = try makeDatabase()
        let ids = (1...homes).map { String(format: "H%04d", $0) }
        _ = try db.importFile(try file("properties.csv", "property_id,address,city,state,zip\n"
            + ids.enumerated().map { "\($1),\($0 + 1) Main St,Oakland,CA,94610" }.joined(separator: "\n") + "\n"), kind: .properties)
        _ = try db.importFile(try file("prospects.csv", "prospect_id,property_id,first_name,last_name,email\n"
            + ids.map { "C\($0.dropFirst()),\($0),Ann,Lee,\($0.lowercased())@example.com" }.joined(separator: "\n") + "\n"), kind: .prospects)
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO territories VALUES ('county', 'zips', '{}', '2026-01-01');
                INSERT INTO score_runs (id, model_file, model_fingerprint, territory, as_of, horizon_days, started_at, finished_at, rows, on_market)
                VALUES (1, 'm.json', 'f', 'county', '2025-12-31', 365, 't', 't', \(homes), 0);
                """)
            for (index, id) in ids.enumerated() {
                let tier = index < homes / 5 ? "High" : index < homes / 2 ? "Medium" : "Low"
                try db.execute(sql: """
                    INSERT INTO scores (run_id, property_id, probability, rank, percentile, tier, on_market) VALUES (1, ?, ?, ?, NULL, ?, 0)
                    """, arguments: [id, 0.5 - 0.4 * Double(index) / Double(homes), index + 1, tier])
            }
        }
        return db
    }

    private func heldOut(_ db: AppDatabase, campaign: String) throws -> Set<String> {
        try db.read { db in
            Set(try String.fetchAll(db, sql: """
                SELECT h.prospect_id FROM contact_history h JOIN exports e ON e.id = h.export_id WHERE e.campaign = ? AND h.held_out = 1
                """, arguments: [campaign]))
        }
    }

    func testExportHoldsOutByTierRecordsTheControlGroupAndNeverExportsItLater() async throws {
        let db = try countyDatabase(homes: 1000)
        var settings = ExportSettings(campaign: "spring", channel: .mail, selection: .topPercent(100), territory: "county")
        settings.holdout = HoldoutRequest(percent: 20, seed: 42)
        let export = try await db.prepareExport(settings)
        try db.recordExport(export)
        XCTAssertEqual(export.summary.holdout, HoldoutSettings(percent: 20, seed: 42))
        XCTAssertEqual(export.summary.heldOutRows, 200)
        XCTAssertEqual(export.summary.exportedRows, 800)
        XCTAssertEqual(Set(export.prospectIDs).intersection(export.heldOutProspectIDs), [])
        // 20 % of every tier (blocks of 5 in rank order): 40 of 200 High, 60 of 300 Medium, 100 of 500 Low.
        let held = try heldOut(db, campaign: "spring")
        XCTAssertEqual(held.count, 200)
        let tiers = try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.tier, count(*) AS n FROM contact_history h JOIN scores s ON s.property_id = h.property_id AND s.run_id = 1
                WHERE h.held_out = 1 GROUP BY s.tier ORDER BY s.tier
                """).map { "\($0["tier"] as String):\($0["n"] as Int)" }
        }
        XCTAssertEqual(tiers, ["High:40", "Low:100", "Medium:60"])
        // Written lists hold no held-out prospect.
        let text = String(decoding: export.content, as: UTF8.self)
        XCTAssertFalse(held.contains { text.contains(",\($0)\n") }, "a held-out prospect is on the list")

        // Reproducible: the same seed in another campaign draws the same homes; another seed does not.
        var again = settings
        again.campaign = "spring-copy"
        let copy = try await db.prepareExport(again)
        XCTAssertEqual(Set(copy.heldOutProspectIDs), held)
        again.holdout = HoldoutRequest(percent: 20, seed: 43)
        let other = try await db.prepareExport(again)
        XCTAssertNotEqual(Set(other.heldOutProspectIDs), held)

        // Later exports of the campaign, by any channel: the control group stays out, recorded once.
        for (channel, day) in [(ExportChannel.email, 1), (.mail, 2), (.ads, 3)] {
            var later = ExportSettings(campaign: "spring", channel: channel, selection: .top(5000), territory: "county")
            later.now = settings.now.addingTimeInterval(Double(day) * 86_400)
            let next = try await db.prepareExport(later)
            XCTAssertEqual(next.summary.holdout?.percent, 20, "a campaign that holds out keeps doing so")
            XCTAssertEqual(next.summary.heldOutRows, 0, "every home was decided by the first export")
            XCTAssertEqual(next.summary.skipped["held_out"], 200)
            XCTAssertTrue(Set(next.prospectIDs).isDisjoint(with: held), "\(channel): a held-out prospect exported")
            XCTAssertEqual(next.prospectIDs.count, 800)
            try db.recordExport(next)
        }
        XCTAssertEqual(try heldOut(db, campaign: "spring"), held)
        let summary = try db.campaigns().first { $0.name == "spring" }
        XCTAssertEqual(summary?.prospects, 800)
        XCTAssertEqual(summary?.heldOut, 200)
        XCTAssertEqual(summary?.holdoutPercent, 20)

        // Another campaign's frequency cap does not count the held out as contacted.
        var capped = ExportSettings(campaign: "summer", channel: .email, selection: .top(5000), territory: "county")
        capped.now = settings.now.addingTimeInterval(5 * 86_400)
        capped.excludeContactedWithinDays = 30
        let summer = try await db.prepareExport(capped)
        XCTAssertEqual(summer.summary.skipped["recently_contacted"], 800)
        XCTAssertEqual(Set(summer.prospectIDs), held)
    }

    func testAHoldoutMustStayTheSameForTheWholeCampaign() async throws {
        let db = try countyDatabase(homes: 100)
        var settings = ExportSettings(campaign: "spring", channel: .email, selection: .top(10), territory: "county")
        settings.holdout = HoldoutRequest(percent: 10, seed: 1)
        try db.recordExport(try await db.prepareExport(settings))
        settings.holdout = HoldoutRequest(percent: 20, seed: 1)
        do {
            _ = try await db.prepareExport(settings)
            XCTFail("another percent for the same campaign")
        } catch let error as ListwiseError {
            XCTAssertEqual(error.exitCode, 2)
            XCTAssertTrue(error.description.contains("holds out 10 %"), error.description)
        }
        var plain = ExportSettings(campaign: "autumn", channel: .email, selection: .top(10), territory: "county")
        try db.recordExport(try await db.prepareExport(plain))
        plain.holdout = HoldoutRequest(percent: 10, seed: 1)
        do {
            _ = try await db.prepareExport(plain)
            XCTFail("a holdout added to a campaign that contacted without one")
        } catch let error as ListwiseError {
            XCTAssertEqual(error.exitCode, 2)
            XCTAssertTrue(error.description.contains("new campaign"), error.description)
        }
    }
}
