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
        XCTAssertTrue(report.text.contains("top prospects:"))
        XCTAssertEqual(report.text.components(separatedBy: "\n").filter { $0.hasPrefix("  ") && $0.contains("%  060") }.count, 20)

        let html = HTMLReport.render(report)
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 4, "histogram, map, gains, calibration")
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "").contains("http"),
                       "no network resources")
        let located = report.homes.filter { $0.latitude != nil }.count
        XCTAssertEqual(html.components(separatedBy: "r=\"2.5\"").count - 1, located, "one dot per home with coordinates")
        XCTAssertEqual(HTMLReport.escape("<b>&\"x\""), "&lt;b&gt;&amp;&quot;x&quot;")
    }
}
