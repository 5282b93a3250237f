// The territory report: counts, expected listings, deciles, and a self-contained HTML page.
import Foundation
import XCTest
@testable import ListwiseKit

final class ReportTests: TemporaryFolderTestCase {
    func testReportSummarisesTheRunAndTheHTMLIsSelfContained() throws {
        let db = try importedCounty(properties: 800, seed: 8)
        let model = try db.trainModel(TrainingSettings()).model
        let modelPath = path("model.json")
        try model.write(to: modelPath)
        let summary = try db.score(model: model, settings: ScoreSettings(asOfDay: DayNumber.parse("2025-12-31")!, modelFile: modelPath))

        let report = try db.territoryReport(territory: nil, runID: nil)
        XCTAssertEqual(report.run.id, summary.runID)
        XCTAssertEqual(report.homes.count, 800)
        XCTAssertEqual(report.onMarket, summary.onMarket)
        XCTAssertEqual(report.expectedListings, summary.expectedListings, accuracy: 1e-9)
        XCTAssertEqual(report.deciles.reduce(0) { $0 + $1.homes }, 800 - summary.onMarket)
        XCTAssertEqual(report.deciles.map(\.mean), report.deciles.map(\.mean).sorted(by: >), "highest decile first")
        XCTAssertEqual(report.validation, model.metrics.deciles)
        XCTAssertEqual(report.validationLift, model.metrics.topLift)
        XCTAssertEqual(report.validationLift?.map(\.share), [0.01, 0.05, 0.2])
        XCTAssertTrue(report.text.contains("top prospects:"))
        XCTAssertEqual(report.text.components(separatedBy: "\n").filter { $0.hasPrefix("  ") && $0.contains("%  060") }.count, 20)

        let html = HTMLReport.render(report)
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 4, "histogram, map, gains, calibration")
        XCTAssertFalse(html.contains("<script"))
        XCTAssertTrue(html.contains(String(format: "ROC AUC %.3f; top 1 %% of homes %.1fx the base rate", model.metrics.rocAUC,
                                           model.metrics.topLift![0].lift)), "the model's validation in the vendors' terms")
        XCTAssertFalse(html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "").contains("http"),
                       "no network resources")
        let located = report.homes.filter { $0.latitude != nil }.count
        XCTAssertEqual(html.components(separatedBy: "class=\"home\"").count - 1, located, "one dot per home with coordinates")
        XCTAssertEqual(HTMLReport.escape("<b>&\"x\""), "&lt;b&gt;&amp;&quot;x&quot;")
    }

    func scoredReport(properties: Int, seed: UInt64) throws -> TerritoryReport {
        let db = try importedCounty(properties: properties, seed: seed)
        let model = try db.trainModel(TrainingSettings()).model
        try model.write(to: path("model.json"))
        _ = try db.score(model: model, settings: ScoreSettings(asOfDay: DayNumber.parse("2025-12-31")!, modelFile: path("model.json")))
        return try db.territoryReport(territory: nil, runID: nil)
    }

    func testTierTableAddsUpTheProbabilitiesOfEachTier() throws {
        let report = try scoredReport(properties: 800, seed: 8)
        let ranked = report.homes.filter { !$0.onMarket }
        let total = ranked.map(\.probability).reduce(0, +)
        XCTAssertEqual(report.tierRows.map(\.tier), ["High", "Medium", "Low"])
        for row in report.tierRows {
            let members = report.homes.filter { $0.tier == row.tier }
            XCTAssertFalse(members.contains { $0.onMarket })
            XCTAssertEqual(row.homes, members.count, row.tier)
            XCTAssertEqual(row.expectedListings, members.map(\.probability).reduce(0, +), accuracy: 1e-9, row.tier)
            XCTAssertEqual(row.share, members.map(\.probability).reduce(0, +) / total, accuracy: 1e-12, row.tier)
            XCTAssertEqual(row.lowestProbability, members.map(\.probability).min(), row.tier)
        }
        XCTAssertEqual(report.tierRows[0].homes, Int((0.2 * Double(ranked.count)).rounded(.down)), "High is the top 20 %")
        XCTAssertEqual(report.tierRows.map(\.homes).reduce(0, +), ranked.count)
        XCTAssertEqual(report.tierRows.map(\.share).reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertGreaterThan(report.tierRows[0].share, 0.2, "High homes expect more than their share of listings")

        let high = report.tierRows[0]
        let html = HTMLReport.render(report)
        XCTAssertTrue(html.contains(String(format: "<tr><td>High</td><td class=\"n\">%d</td><td class=\"n\">%.1f</td><td class=\"n\">%.1f%%</td>",
                                           high.homes, high.expectedListings, 100 * high.share)), "the HTML tier table")
        XCTAssertTrue(report.text.contains(String(format: "  High   %7d %19.1f %6.1f%%", high.homes, high.expectedListings, 100 * high.share)),
                      report.text)
    }

    func testZipTableCountsHomesOnMarketExpectedListingsAndHighHomes() throws {
        let report = try scoredReport(properties: 800, seed: 8)
        let byZip = Dictionary(grouping: report.homes, by: \.zip)
        XCTAssertEqual(Set(report.zipRows.map(\.zip)), Set(byZip.keys))
        XCTAssertGreaterThan(byZip.count, 1)
        for row in report.zipRows {
            let homes = byZip[row.zip]!
            XCTAssertEqual(row.homes, homes.count, row.zip)
            XCTAssertEqual(row.onMarket, homes.filter(\.onMarket).count, row.zip)
            XCTAssertEqual(row.expectedListings, homes.filter { !$0.onMarket }.map(\.probability).reduce(0, +), accuracy: 1e-9, row.zip)
            XCTAssertEqual(row.highHomes, homes.filter { $0.tier == "High" }.count, row.zip)
        }
        XCTAssertEqual(report.zipRows.map(\.expectedListings), report.zipRows.map(\.expectedListings).sorted(by: >), "busiest zip first")
        XCTAssertEqual(report.zipRows.map(\.expectedListings).reduce(0, +), report.expectedListings, accuracy: 1e-9)
        let first = report.zipRows[0]
        XCTAssertTrue(HTMLReport.render(report).contains(String(
            format: "<tr><td>%@</td><td class=\"n\">%d</td><td class=\"n\">%d</td><td class=\"n\">%.1f</td><td class=\"n\">%d</td></tr>",
            first.zip, first.homes, first.onMarket, first.expectedListings, first.highHomes)), "the HTML zip table")
    }

    func testReasonsAmongHighHomesAreGroupedByTheirFeature() throws {
        let report = try scoredReport(properties: 800, seed: 8)
        let high = report.homes.filter { $0.tier == "High" }
        let rows = report.highReasons(limit: 100)
        XCTAssertFalse(rows.isEmpty)
        XCTAssertEqual(rows.map(\.homes), rows.map(\.homes).sorted(by: >), "most common first")
        // Independently of the grouping code: a kind is counted once per High home that gives it.
        func homes(matching pattern: String) -> Int {
            high.filter { $0.reasons.contains { $0.range(of: pattern, options: .regularExpression) != nil } }.count
        }
        let expected = ["years owned": homes(matching: "^owned [0-9]+ years?$"), "owner's age": homes(matching: "^owner aged [0-9]+$"),
                        "listing withdrawn": homes(matching: "^listing withdrawn [0-9]+ months? ago$"),
                        "loan rate against today's market": homes(matching: "^loan rate [0-9.]+ points (below|above) today's market$"),
                        "absentee owner": homes(matching: "^absentee owner$")]
        XCTAssertGreaterThan(expected.values.reduce(0, +), 0, "the sample's High homes give some of these reasons")
        for (kind, count) in expected where count > 0 {
            let row = try XCTUnwrap(rows.first { $0.kind == kind }, kind)
            XCTAssertEqual(row.homes, count, kind)
            XCTAssertEqual(row.share, Double(count) / Double(high.count), accuracy: 1e-12, kind)
        }
        // Every phrase of every High home falls in exactly one listed kind, so the kinds' counts add up
        // to the distinct (home, kind) pairs and no more than three a home.
        XCTAssertLessThanOrEqual(rows.map(\.homes).reduce(0, +), high.map(\.reasons.count).reduce(0, +))
        XCTAssertGreaterThanOrEqual(rows.map(\.homes).reduce(0, +), high.filter { !$0.reasons.isEmpty }.count)

        let top = rows[0]
        XCTAssertTrue(HTMLReport.render(report).contains("<tr><td>\(HTMLReport.escape(top.kind))</td><td class=\"n\">\(top.homes)</td>"
                                                         + String(format: "<td class=\"n\">%.1f%%</td>", 100 * top.share)))
    }

    func testReasonKindsOfHandPickedPhrases() throws {
        let phrases = ["owned 11 years", "owned 1 year", "owner aged 71", "absentee owner", "no loan on record",
                       "high equity (loan 30% of value)", "loan 80% of value", "loan rate 1.5 points below today's market",
                       "loan rate 0.5 points above today's market", "condo", "notice of default in the last 2 years",
                       "busy zip: listings 1.4x the county rate", "2.5 bathrooms", "something new 7 times"]
        XCTAssertEqual(phrases.map { ReasonKinds.kind(of: $0).label },
                       ["years owned", "years owned", "owner's age", "absentee owner", "no loan on record",
                        "equity (loan share of value)", "equity (loan share of value)", "loan rate against today's market",
                        "loan rate against today's market", "condo", "notice of default", "busy zip", "bathrooms", "something new N times"])
        // Every numeric phrase the scorer can write maps back to its own feature.
        for feature in RawFeature.allCases {
            for value in [0.4, 3, 17, 250] where feature != .propertyType {
                let phrase = Reasons.phrase(feature, value)
                guard phrase.contains(where: \.isNumber) else { continue }
                XCTAssertEqual(ReasonKinds.kind(of: phrase).key, "feature:" + feature.name, phrase)
            }
        }

        func home(_ tier: String, _ reasons: [String]) -> TerritoryReport.Home {
            TerritoryReport.Home(propertyID: "", address: "", zip: "94500", probability: 0.1, rank: 1, tier: tier, onMarket: false,
                                 reasons: reasons, latitude: nil, longitude: nil)
        }
        var report = ReportChartTests.syntheticReport(homes: 0)
        report.homes = [home("High", ["owned 11 years", "owner aged 71", "absentee owner"]),
                        home("High", ["owned 38 years", "absentee owner"]),
                        home("High", ["owned 2 years", "sold 2 times in 10 years"]), home("High", ["sold once in 10 years"]),
                        home("Low", ["owner aged 90", "absentee owner"])]
        XCTAssertEqual(report.highReasons(), [
            ReasonRow(kind: "years owned", homes: 3, share: 0.75, lowest: "owned 2 years", highest: "owned 38 years"),
            ReasonRow(kind: "absentee owner", homes: 2, share: 0.5, lowest: "absentee owner", highest: "absentee owner"),
            ReasonRow(kind: "sales in the last 10 years", homes: 2, share: 0.5, lowest: "sold once in 10 years",
                      highest: "sold 2 times in 10 years"),
            ReasonRow(kind: "owner's age", homes: 1, share: 0.25, lowest: "owner aged 71", highest: "owner aged 71"),
        ])
    }
}
