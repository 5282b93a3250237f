// The HTML report's charts: every <svg> has labelled x and y axes with ordered ticks and a legend,
// and a territory of 100,000 homes gets a binned map and a page under 3 MB.
import Foundation
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import ListwiseKit

/// Each <svg> of a page, parsed as XML (which also checks that it is well-formed).
func svgCharts(_ html: String) throws -> [XMLElement] {
    var charts: [XMLElement] = []
    var rest = html[...]
    while let start = rest.range(of: "<svg"), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
        // Without its namespace, because FoundationXML's attribute(forName:) finds nothing inside one.
        let svg = String(rest[start.lowerBound..<end.upperBound]).replacingOccurrences(of: " xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        charts.append(try XMLDocument(xmlString: svg, options: []).rootElement()!)
        rest = rest[end.upperBound...]
    }
    return charts
}

/// What a chart lacks: one x axis and one y axis, each with a non-empty title and at least two ticks
/// whose labels are distinct numbers increasing along the axis, and a legend with a label per swatch.
func chartProblems(_ svg: XMLElement) throws -> [String] {
    let chart = svg.attribute(forName: "aria-label")?.stringValue ?? "a chart"
    var problems: [String] = []
    func texts(_ node: XMLNode, _ cls: String) throws -> [String] {
        try node.nodes(forXPath: ".//*[@class='\(cls)']").map { ($0.stringValue ?? "").trimmingCharacters(in: .whitespaces) }
    }
    for (axis, coordinate) in [("axis x", "x1"), ("axis y", "y1")] {
        let groups = try svg.nodes(forXPath: ".//*[@class='\(axis)']")
        guard groups.count == 1, let group = groups.first else {
            problems.append("\(chart): \(groups.count) groups of class \(axis)")
            continue
        }
        let title = try texts(group, "axis-title")
        if title.count != 1 || title[0].isEmpty { problems.append("\(chart): \(axis) title \(title)") }
        let ticks = try group.nodes(forXPath: ".//*[@class='tick']").compactMap { tick in
            ((tick as? XMLElement)?.attribute(forName: coordinate)?.stringValue).flatMap(Double.init)
        }
        let labels = try texts(group, "tick-label").map { Double($0.replacingOccurrences(of: "%", with: "")) }
        if ticks.count < 2 { problems.append("\(chart): \(ticks.count) \(axis) ticks") }
        if labels.count != ticks.count || labels.contains(nil) {
            problems.append("\(chart): \(axis) tick labels \(labels) for \(ticks.count) ticks")
            continue
        }
        // Along x values grow to the right; along y they grow upwards (SVG's y grows downwards).
        let byPosition = zip(ticks, labels.map { $0! }).sorted { axis == "axis x" ? $0.0 < $1.0 : $0.0 > $1.0 }.map(\.1)
        if byPosition != byPosition.sorted() || Set(byPosition).count != byPosition.count {
            problems.append("\(chart): \(axis) tick labels out of order or repeated: \(byPosition)")
        }
    }
    let legends = try svg.nodes(forXPath: ".//*[@class='legend']")
    guard legends.count == 1, let legend = legends.first as? XMLElement else {
        return problems + ["\(chart): \(legends.count) legends"]
    }
    let labels = try texts(legend, "legend-label")
    if labels.isEmpty || labels.contains("") { problems.append("\(chart): legend labels \(labels)") }
    let swatches = (legend.children ?? []).filter { ["rect", "line", "circle"].contains($0.localName ?? "") }
    if swatches.count != labels.count { problems.append("\(chart): \(swatches.count) swatches, \(labels.count) legend labels") }
    return problems
}

final class ReportChartTests: TemporaryFolderTestCase {
    /// A report of `count` synthetic homes over a 0.4° × 0.3° box in 40 zips, ranked and tiered as
    /// a score run would (20 % High, 30 % Medium), 3 % on the market, with reasons.
    static func syntheticReport(homes count: Int) -> TerritoryReport {
        var generator = SampleRandom(seed: 11)   // the sample generator's SplitMix64
        var homes: [TerritoryReport.Home] = (0..<count).map { index in
            let u = generator.uniform()
            let tenure = 1 + 40 * generator.uniform(), age = 30 + 60 * generator.uniform()
            return TerritoryReport.Home(
                propertyID: String(format: "%07d", index), address: "\(index) Synthetic St", zip: String(94500 + index % 40),
                probability: 0.002 + 0.3 * u * u * u, rank: nil, tier: nil, onMarket: index % 33 == 0,
                reasons: [Reasons.phrase(.tenureYears, tenure.rounded()), Reasons.phrase(.ownerAge, age.rounded()), "absentee owner"],
                latitude: 37.6 + 0.3 * generator.uniform(), longitude: -122.3 + 0.4 * generator.uniform())
        }
        let ranked = homes.indices.filter { !homes[$0].onMarket }.sorted { homes[$0].probability > homes[$1].probability }
        for (position, index) in ranked.enumerated() {
            homes[index].rank = position + 1
            let share = Double(position + 1) / Double(ranked.count)
            homes[index].tier = share <= 0.2 ? "High" : share <= 0.5 ? "Medium" : "Low"
        }
        let run = ScoreRunRecord(id: 1, modelFile: "model.json", modelFingerprint: "x", territory: "synthetic", asOf: "2025-12-31",
                                 horizonDays: 365, startedAt: "", finishedAt: "", rows: count, onMarket: count / 33 + 1,
                                 featureCounts: nil)
        let deciles = (1...10).map { d in
            DecileRow(decile: d, rows: count / 10, positives: 0, meanPredicted: 0.2 / Double(d), observedRate: 0.18 / Double(d),
                      lift: 1, cumulativeCapture: min(1, 0.25 * log(1 + Double(d)) / log(2)))
        }
        return TerritoryReport(run: run, title: "Territory report: synthetic", homes: homes, validation: deciles)
    }

    func testEveryChartOfARealRunHasLabelledAxesAndALegend() throws {
        let db = try importedCounty(properties: 600, seed: 3)
        let model = try db.trainModel(TrainingSettings()).model
        try model.write(to: path("model.json"))
        _ = try db.score(model: model, settings: ScoreSettings(asOfDay: DayNumber.parse("2025-12-31")!, modelFile: path("model.json")))
        let html = HTMLReport.render(try db.territoryReport(territory: nil, runID: nil))
        let charts = try svgCharts(html)
        XCTAssertEqual(charts.count, 4, "histogram, map, gains, calibration")
        for chart in charts { XCTAssertEqual(try chartProblems(chart), []) }
        let map = try XCTUnwrap(charts.first { $0.attribute(forName: "aria-label")?.stringValue?.hasPrefix("Map") == true })
        let mapAxes = try map.nodes(forXPath: ".//*[@class='axis-title']").compactMap(\.stringValue)
        XCTAssertEqual(mapAxes, ["Longitude (°)", "Latitude (°)"])
    }

    func testTheChecksRejectAChartWithoutAxesOrLegend() throws {
        // The old histogram: bars, one number on the y axis, no axis titles, no legend.
        let old = """
            <svg xmlns="http://www.w3.org/2000/svg" aria-label="old"><rect x="40" y="30" width="22" height="220"/>\
            <line x1="38" y1="250" x2="545" y2="250" stroke="#333"/><text x="5" y="30">12</text></svg>
            """
        let problems = try chartProblems(try XCTUnwrap(try svgCharts(old).first))
        XCTAssertEqual(problems, ["old: 0 groups of class axis x", "old: 0 groups of class axis y", "old: 0 legends"])

        // Ticks labelled in the wrong order along y, and a legend swatch without its label.
        let swapped = """
            <svg xmlns="http://www.w3.org/2000/svg" aria-label="swapped">\
            <g class="axis x"><line class="tick" x1="10" y1="0" x2="10" y2="5"/><text class="tick-label">0</text>\
            <line class="tick" x1="20" y1="0" x2="20" y2="5"/><text class="tick-label">1</text><text class="axis-title">x</text></g>\
            <g class="axis y"><line class="tick" x1="0" y1="10" x2="5" y2="10"/><text class="tick-label">0</text>\
            <line class="tick" x1="0" y1="20" x2="5" y2="20"/><text class="tick-label">1</text><text class="axis-title">y</text></g>\
            <g class="legend"><rect x="0" y="0" width="1" height="1"/><rect x="0" y="0" width="1" height="1"/>\
            <text class="legend-label">a</text></g></svg>
            """
        XCTAssertEqual(try chartProblems(try XCTUnwrap(try svgCharts(swapped).first)),
                       ["swapped: axis y tick labels out of order or repeated: [1.0, 0.0]", "swapped: 2 swatches, 1 legend labels"])
    }

    func testAHundredThousandHomesGetABinnedMapAndAPageUnderThreeMegabytes() throws {
        let report = Self.syntheticReport(homes: 100_000)
        let started = Date()
        let html = HTMLReport.render(report)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertLessThan(html.utf8.count, 3_000_000, "\(html.utf8.count) bytes")
        XCTAssertFalse(html.contains("class=\"home\""), "no dot per home")
        let cells = html.components(separatedBy: "class=\"cell\"").count - 1
        XCTAssertGreaterThan(cells, 1000, "the box is covered by cells")
        XCTAssertLessThanOrEqual(cells, HTMLReport.mapColumns * HTMLReport.mapColumns, "at most one rect per grid cell")
        let charts = try svgCharts(html)
        XCTAssertEqual(charts.count, 4)
        for chart in charts { XCTAssertEqual(try chartProblems(chart), []) }
        XCTAssertLessThan(seconds, 30, "rendering is linear in the homes")

        // Just under the limit the map still draws one dot per home.
        let small = HTMLReport.render(Self.syntheticReport(homes: HTMLReport.mapPointLimit))
        XCTAssertEqual(small.components(separatedBy: "class=\"home\"").count - 1, HTMLReport.mapPointLimit)
        XCTAssertFalse(small.contains("class=\"cell\""))
    }
}
