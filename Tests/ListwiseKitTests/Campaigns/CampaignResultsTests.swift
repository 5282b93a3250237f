// Campaign results (issue 17) on a generated county: trained and scored on the events to the end
// of 2024, exported with holdouts, then 2025's events imported. With no effect the ratio's 95 %
// interval covers 1 for about 95 % of holdout seeds; a planted effect (contacted homes made to
// list twice as often) is recovered inside its interval; predictions are pro-rated by hand.
import Foundation
import GRDB
import XCTest
@testable import ListwiseKit

final class CampaignResultsTests: TemporaryFolderTestCase {
    private let listDay = DayNumber.from(year: 2024, month: 12, day: 31)
    private let yearEnd = DayNumber.from(year: 2025, month: 12, day: 31)
    private let exportDate = ISO8601DateFormatter().date(from: "2025-01-02T15:00:00Z")!

    /// A 6,000-home county with the events to `listDay` imported, a logistic model trained and
    /// every home scored as of `listDay`; returns the database and the file of the later events.
    private func scoredCounty() throws -> (AppDatabase, laterEvents: String) {
        let county = path("county")
        _ = try SampleGenerator(settings: SampleSettings(properties: 6_000, seed: 17)).write(to: county)
        let db = try makeDatabase()
        for kind in [ImportKind.properties, .owners, .prospects] { _ = try db.importFile(county + "/\(kind.rawValue).csv", kind: kind) }
        let lines = try String(contentsOfFile: county + "/events.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        let cut = DayNumber.iso(listDay)
        let dated = lines.dropFirst().map { ($0, $0.split(separator: ",", omittingEmptySubsequences: false)[2]) }
        let before = try file("events-before.csv", ([lines[0]] + dated.filter { $0.1 <= cut }.map(\.0)).joined(separator: "\n") + "\n")
        let after = try file("events-after.csv", ([lines[0]] + dated.filter { $0.1 > cut }.map(\.0)).joined(separator: "\n") + "\n")
        _ = try db.importFile(before, kind: .events)
        let model = try db.trainModel(.logistic).model
        _ = try db.score(model: model, settings: ScoreSettings(asOfDay: listDay, modelFile: "m.json"))
        return (db, after)
    }

    private func export(_ db: AppDatabase, campaign: String, seed: Int) async throws -> PreparedExport {
        var settings = ExportSettings(campaign: campaign, channel: .mail, selection: .topPercent(60))
        settings.holdout = HoldoutRequest(percent: 20, seed: seed)
        settings.now = exportDate
        let export = try await db.prepareExport(settings)
        try db.recordExport(export)
        return export
    }

    func testNoEffectCoversOneForAboutNineteenSeedsInTwentyAndAPlantedEffectIsRecovered() async throws {
        let (db, laterEvents) = try scoredCounty()
        let seeds = Array(1...100)
        for seed in seeds { _ = try await export(db, campaign: "null-\(seed)", seed: seed) }
        let planted = try await export(db, campaign: "planted", seed: 4242)
        XCTAssertGreaterThan(planted.summary.heldOutRows, 600)
        _ = try db.importFile(laterEvents, kind: .events)

        // No effect: the outcomes are the generator's, the same whichever homes were held out.
        var covered = 0
        for seed in seeds {
            let results = try db.campaignResults("null-\(seed)", asOfDay: yearEnd)
            XCTAssertEqual(results.elapsedDays, 365)
            if let interval = results.all?.ratioInterval, interval.contains(1) { covered += 1 }
        }
        // Measured: 92 of 100 (binomial(100, 0.95) has a standard deviation of 2.2).
        XCTAssertTrue((88...99).contains(covered), "the interval covered 1 for \(covered) of 100 seeds")

        // Planted: each contacted home without a listing or sale in 2025 gets a LISTING with the
        // probability that makes its tier's rate twice the tier's rate over all the campaign's homes.
        let factor = 2.0
        let before = try db.campaignResults("planted", asOfDay: yearEnd)
        XCTAssertFalse(before.significant, before.verdict)
        let homes = try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT h.property_id, min(h.held_out) AS held_out, s.tier,
                       EXISTS (SELECT 1 FROM events ev WHERE ev.property_id = h.property_id AND ev.event_type IN ('LISTING', 'SALE')
                               AND ev.event_date > '2024-12-31') AS listed
                FROM contact_history h JOIN exports e ON e.id = h.export_id JOIN scores s ON s.run_id = e.run_id AND s.property_id = h.property_id
                WHERE e.campaign = 'planted' GROUP BY h.property_id, s.tier
                """).map { (id: $0["property_id"] as String, heldOut: $0["held_out"] as Bool, tier: $0["tier"] as String, listed: $0["listed"] as Bool) }
        }
        var rates: [String: Double] = [:]
        for tier in Set(homes.map(\.tier)) {
            let inTier = homes.filter { $0.tier == tier }
            rates[tier] = Double(inTier.filter(\.listed).count) / Double(inTier.count)
        }
        var generator = SplitMix64(seed: 99)
        var csv = "property_id,event_type,event_date\n"
        for home in homes where !home.heldOut && !home.listed {
            let rate = rates[home.tier]!
            let q = (factor - 1) * rate / (1 - rate)
            if Double(generator.next() >> 11) / Double(1 << 53) < q {
                csv += "\(home.id),LISTING,\(DayNumber.iso(listDay + 3 + Int(generator.next() % 360)))\n"
            }
        }
        _ = try db.importFile(try file("planted.csv", csv), kind: .events)
        let results = try db.campaignResults("planted", asOfDay: yearEnd)
        let all = try XCTUnwrap(results.all)
        let interval = try XCTUnwrap(all.ratioInterval)
        // Measured: 1.94 (1.43 to 2.62); the tiers 2.06, 1.92, 1.58.
        XCTAssertTrue(interval.contains(factor), "planted \(factor)x, measured \(all.ratio!) in \(interval)")
        XCTAssertGreaterThan(interval.lower, 1)
        XCTAssertTrue(results.significant)
        XCTAssertTrue(results.verdict.hasSuffix(": significant"), results.verdict)
        XCTAssertEqual(all.contacted.homes + all.heldOut.homes, homes.count)
        XCTAssertEqual(all.heldOut.listedOrSold, before.all!.heldOut.listedOrSold, "the held-out homes' outcomes are untouched")
        XCTAssertGreaterThan(all.contacted.listedAfterExport, before.all!.contacted.listedAfterExport)
        for tier in results.tiers where tier.tier != "all" {
            XCTAssertGreaterThan(tier.ratio ?? 0, 1.2, "\(tier.tier)")
        }
        // The same figures from the store through a CLI-shaped round trip (JSON).
        let decoded = try JSONDecoder().decode(CampaignResults.self, from: JSONEncoder().encode(results))
        XCTAssertEqual(decoded, results)
    }

    func testPredictionsAreProRatedAndOnlyEventsInTheWindowCount() async throws {
        let (db, laterEvents) = try scoredCounty()
        _ = try await export(db, campaign: "spring", seed: 5)
        _ = try db.importFile(laterEvents, kind: .events)
        let midYear = DayNumber.from(year: 2025, month: 6, day: 30)
        let results = try db.campaignResults("spring", asOfDay: midYear)
        XCTAssertEqual(results.elapsedDays, 181)
        XCTAssertEqual(results.listAsOf, "2024-12-31")
        XCTAssertEqual(results.firstExport, "2025-01-02")
        XCTAssertEqual(results.holdoutPercent, 20)
        // By hand: probabilities × 181/365, and homes with a LISTING or SALE in (2024-12-31, 2025-06-30].
        let expected = try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT min(h.held_out) AS held_out, count(*) AS homes, sum(p) AS p, sum(listed) AS listed FROM (
                    SELECT h.property_id, min(h.held_out) AS held_out, max(s.probability) AS p,
                           EXISTS (SELECT 1 FROM events ev WHERE ev.property_id = h.property_id AND ev.event_type IN ('LISTING', 'SALE')
                                   AND ev.event_date > '2024-12-31' AND ev.event_date <= '2025-06-30') AS listed
                    FROM contact_history h JOIN exports e ON e.id = h.export_id JOIN scores s ON s.run_id = e.run_id AND s.property_id = h.property_id
                    WHERE e.campaign = 'spring' GROUP BY h.property_id) h
                GROUP BY h.held_out ORDER BY h.held_out
                """)
        }
        let all = try XCTUnwrap(results.all)
        for (row, group) in zip(expected, [all.contacted, all.heldOut]) {
            XCTAssertEqual(group.homes, row["homes"] as Int)
            XCTAssertEqual(group.listedOrSold, row["listed"] as Int)
            XCTAssertEqual(group.predicted, (row["p"] as Double) * 181 / 365, accuracy: 1e-9)
            let rate = Double(group.listedOrSold) / Double(group.homes)
            XCTAssertEqual(group.rate!, rate, accuracy: 1e-12)
            XCTAssertTrue(group.rateInterval!.contains(rate))
        }
        // Twenty days in: too early to say, in those words.
        let early = try db.campaignResults("spring", asOfDay: listDay + 20)
        XCTAssertFalse(early.significant)
        XCTAssertTrue(early.verdict.hasPrefix("too early: 20 days, "), early.verdict)
        // The territory report (all properties here) carries the campaign's results.
        let report = try db.territoryReport(territory: nil, runID: nil)
        XCTAssertEqual(report.campaigns.map(\.campaign), ["spring"])
        XCTAssertTrue(HTMLReport.render(report).contains("Measured campaigns"))
        XCTAssertTrue(report.text.contains("spring: "))
        do {
            _ = try db.campaignResults("nope", asOfDay: nil)
            XCTFail("an unknown campaign")
        } catch let error as ListwiseError {
            XCTAssertEqual(error.exitCode, 2)
        }
    }
}
