// Campaign intervals against statsmodels values computed once by
// Benchmarks/reference/campaign_statistics_reference.py (expected values committed beside), plus closed forms.
import Foundation
import XCTest
@testable import ListwiseKit

final class CampaignStatisticsTests: XCTestCase {
    struct Expected: Decodable {
        struct Case: Decodable {
            struct Ratio: Decodable { var method: String; var ratio: Double; var interval: Interval }
            var a: Int, n1: Int, c: Int, n2: Int
            var wilsonContacted: Interval
            var wilsonHeldOut: Interval
            var difference: Interval
            var ratio: Ratio?

            enum CodingKeys: String, CodingKey {
                case a, n1, c, n2, wilsonContacted = "wilson_contacted", wilsonHeldOut = "wilson_held_out", difference, ratio
            }
        }
        var versions: [String: String]
        var z: Double
        var cases: [Case]
    }

    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    private static let z = 1.9599639845400545

    private func load() throws -> Expected {
        try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("campaign_statistics_expected.json")))
    }

    private func assertInterval(_ actual: Interval?, _ expected: Interval, _ label: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        guard let actual else { return XCTFail("\(label): nil, expected \(expected)", file: file, line: line) }
        XCTAssertEqual(actual.lower, expected.lower, accuracy: 1e-9, "\(label) lower", file: file, line: line)
        XCTAssertEqual(actual.upper, expected.upper, accuracy: 1e-9, "\(label) upper", file: file, line: line)
    }

    func testIntervalsMatchStatsmodels() throws {
        let expected = try load()
        XCTAssertEqual(expected.z, Self.z, "the fixture's z is the default z")
        XCTAssertGreaterThanOrEqual(expected.cases.count, 10)
        for k in expected.cases {
            let label = "(\(k.a)/\(k.n1), \(k.c)/\(k.n2))"
            assertInterval(CampaignStatistics.wilson(successes: k.a, trials: k.n1), k.wilsonContacted, "\(label) Wilson contacted")
            assertInterval(CampaignStatistics.wilson(successes: k.c, trials: k.n2), k.wilsonHeldOut, "\(label) Wilson held out")
            assertInterval(CampaignStatistics.differenceInterval(a: k.a, n1: k.n1, c: k.c, n2: k.n2), k.difference, "\(label) difference")
            let ratio = CampaignStatistics.ratioInterval(a: k.a, n1: k.n1, c: k.c, n2: k.n2)
            guard let want = k.ratio else {
                XCTAssertNil(ratio, "\(label): no events, no ratio")
                continue
            }
            XCTAssertEqual(want.method, k.a > 0 && k.c > 0 ? "log" : "log-adjusted", label)
            guard let ratio else {
                XCTFail("\(label): ratio nil")
                continue
            }
            XCTAssertEqual(ratio.ratio, want.ratio, accuracy: 1e-9, "\(label) ratio")
            assertInterval(ratio.interval, want.interval, "\(label) \(want.method) interval")
        }
    }

    func testWilsonAtTheEdgesHasClosedForms() throws {
        let z2 = Self.z * Self.z
        for n in [1, 7, 50, 1000] {
            let none = try XCTUnwrap(CampaignStatistics.wilson(successes: 0, trials: n))
            XCTAssertEqual(none.lower, 0)
            XCTAssertEqual(none.upper, z2 / (Double(n) + z2), accuracy: 1e-15)
            let all = try XCTUnwrap(CampaignStatistics.wilson(successes: n, trials: n))
            XCTAssertEqual(all.lower, Double(n) / (Double(n) + z2), accuracy: 1e-15)
            XCTAssertEqual(all.upper, 1)
        }
        // Half of n: centred on ½ with half-width z·√(n/4 + z²/4) / (n + z²).
        let half = try XCTUnwrap(CampaignStatistics.wilson(successes: 50, trials: 100))
        let width = Self.z * (25 + z2 / 4).squareRoot() / (100 + z2)
        XCTAssertEqual(half.lower, 0.5 - width, accuracy: 1e-15)
        XCTAssertEqual(half.upper, 0.5 + width, accuracy: 1e-15)
    }

    func testEqualGroupsGiveRatioOneSymmetricOnTheLogScale() throws {
        for (a, n) in [(1, 10), (30, 200), (400, 5000)] {
            let result = try XCTUnwrap(CampaignStatistics.ratioInterval(a: a, n1: n, c: a, n2: n))
            XCTAssertEqual(result.ratio, 1)
            XCTAssertTrue(result.interval.contains(1))
            XCTAssertEqual(log(result.interval.upper), -log(result.interval.lower), accuracy: 1e-12)
            let se = (2 * (1 / Double(a) - 1 / Double(n))).squareRoot()
            XCTAssertEqual(log(result.interval.upper), Self.z * se, accuracy: 1e-12, "Katz: z·√(1/a − 1/n1 + 1/c − 1/n2)")
            let difference = try XCTUnwrap(CampaignStatistics.differenceInterval(a: a, n1: n, c: a, n2: n))
            XCTAssertEqual(difference.upper, -difference.lower, accuracy: 1e-15)
        }
    }

    func testZeroCellUsesTheHalfAddedToAllFourCounts() throws {
        // No held-out event: the ratio is the adjusted one, the interval's centre on the log scale.
        let result = try XCTUnwrap(CampaignStatistics.ratioInterval(a: 5, n1: 50, c: 0, n2: 60))
        XCTAssertEqual(result.ratio, (5.5 / 50.5) / (0.5 / 60.5), accuracy: 1e-12)
        XCTAssertEqual(log(result.interval.lower) + log(result.interval.upper), 2 * log(result.ratio), accuracy: 1e-12)
        let se = (1 / 5.5 - 1 / 50.5 + 1 / 0.5 - 1 / 60.5).squareRoot()
        XCTAssertEqual(log(result.interval.upper) - log(result.ratio), Self.z * se, accuracy: 1e-12)
        // No contacted event: the plain ratio, 0, below an interval that stays above 0.
        let zero = try XCTUnwrap(CampaignStatistics.ratioInterval(a: 0, n1: 50, c: 4, n2: 60))
        XCTAssertEqual(zero.ratio, 0)
        XCTAssertGreaterThan(zero.interval.lower, 0)
        XCTAssertTrue(zero.interval.contains(1))
    }

    func testNilWithoutHomesOrEvents() {
        XCTAssertNil(CampaignStatistics.wilson(successes: 0, trials: 0))
        XCTAssertNil(CampaignStatistics.wilson(successes: 3, trials: 2))
        XCTAssertNil(CampaignStatistics.wilson(successes: -1, trials: 2))
        XCTAssertNil(CampaignStatistics.differenceInterval(a: 0, n1: 0, c: 1, n2: 10))
        XCTAssertNil(CampaignStatistics.differenceInterval(a: 1, n1: 10, c: 0, n2: 0))
        XCTAssertNil(CampaignStatistics.ratioInterval(a: 0, n1: 0, c: 1, n2: 10))
        XCTAssertNil(CampaignStatistics.ratioInterval(a: 1, n1: 10, c: 0, n2: 0))
        XCTAssertNil(CampaignStatistics.ratioInterval(a: 0, n1: 10, c: 0, n2: 10))
        XCTAssertNotNil(CampaignStatistics.differenceInterval(a: 0, n1: 10, c: 0, n2: 10), "no events still bounds the difference")
    }

    func testIntervalContainsItsBounds() {
        let interval = Interval(lower: 0.5, upper: 2)
        XCTAssertTrue(interval.contains(0.5))
        XCTAssertTrue(interval.contains(2))
        XCTAssertFalse(interval.contains(0.4999))
        XCTAssertFalse(interval.contains(2.0001))
    }
}
