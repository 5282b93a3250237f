// Lift at the top 1 %, 5 % and 20 % of homes (issue 16: the figure likely-to-sell vendors quote),
// against counts done by hand; stored in model files, and older files without it still load.
import Foundation
import XCTest
@testable import ListwiseKit

final class TopLiftTests: XCTestCase {
    func testLiftOfTheBestScoredSharesAgainstHandCounts() {
        // 200 homes, probabilities descending with the index; 20 positives (base rate 0.1):
        // homes 0, 1 (the top 1 % = 2 homes: rate 1, lift 10), 5, 7 (top 5 % = 10 homes: 4
        // positives, rate 0.4, lift 4), 12, 20, 33, 39 (top 20 % = 40 homes: 8, lift 2), and 12
        // more below.
        let n = 200
        let p = (0..<n).map { 1 - Double($0) / Double(n) }
        var y = [Double](repeating: 0, count: n)
        for index in [0, 1, 5, 7, 12, 20, 33, 39] + Array(stride(from: 50, to: 200, by: 13)).prefix(12) { y[index] = 1 }
        XCTAssertEqual(y.reduce(0, +), 20)
        let lifts = Metrics.topLift(y: y, p: p)
        XCTAssertEqual(lifts.map(\.rows), [2, 10, 40])
        XCTAssertEqual(lifts.map(\.positives), [2, 4, 8])
        XCTAssertEqual(lifts.map(\.lift), [10, 4, 2])
        XCTAssertEqual(Metrics.liftPhrase(lifts), "top 1 % of homes 10.0x the base rate, top 5 % 4.0x, top 20 % 2.0x")

        // The input order does not matter; ties are taken in input order.
        let shuffledOrder = (0..<n).map { ($0 * 7) % n }
        let shuffled = Metrics.topLift(y: shuffledOrder.map { y[$0] }, p: shuffledOrder.map { p[$0] })
        XCTAssertEqual(shuffled, lifts)
        // A tiny set still has a top home; no positives: no lift to speak of.
        XCTAssertEqual(Metrics.topLift(y: [1, 0, 0], p: [0.9, 0.5, 0.1]).map(\.rows), [1, 1, 1])
        XCTAssertTrue(Metrics.topLift(y: [0, 0], p: [0.9, 0.1])[0].lift.isNaN)
        XCTAssertEqual(Metrics.evaluate(y: y, p: p).topLift, lifts)
    }

    func testAModelFileWithoutTopLiftStillLoads() throws {
        let metrics = Metrics.evaluate(y: [1, 0, 1, 0, 0], p: [0.8, 0.3, 0.6, 0.2, 0.1])
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(metrics)) as! [String: Any]
        XCTAssertNotNil(object["top_lift"], "written under its SPEC-style key")
        object.removeValue(forKey: "top_lift")
        let old = try JSONDecoder().decode(ModelMetrics.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertNil(old.topLift)
        XCTAssertEqual(old.rocAUC, metrics.rocAUC)
        XCTAssertFalse(MetricsReport.text(old, title: "old").contains("base rate"))
        XCTAssertTrue(MetricsReport.text(metrics, title: "new").contains("top 1 % of homes"))
    }
}
