// The estimator and metrics against statsmodels / scikit-learn values computed once by
// Benchmarks/reference/logistic_reference.py (fixture and expected values committed beside).
import Foundation
import XCTest
@testable import ListwiseKit

final class LogisticRegressionTests: XCTestCase {
    struct Expected: Decodable {
        struct Fit: Decodable { var intercept: Double; var coefficients: [Double]; var deviance: Double?; var lambda: Double? }
        var unpenalised: Fit
        var l2: Fit
        var metrics: [String: Double]
    }

    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    private func load() throws -> (x: Matrix, y: [Double], w: [Double], score: [Double], expected: Expected) {
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent("logistic_fixture.csv"), encoding: .utf8)
        let rows = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
        let x = Matrix(rows: rows.count, columns: 4, values: rows.flatMap { $0[0..<4] })
        let expected = try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("logistic_expected.json")))
        return (x, rows.map { $0[4] }, rows.map { $0[5] }, rows.map { $0[6] }, expected)
    }

    private func assertRelative(_ actual: Double, _ expected: Double, _ tolerance: Double = 1e-6,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThanOrEqual(abs(actual - expected), tolerance * max(abs(expected), 1e-12),
                                 "\(actual) vs \(expected)", file: file, line: line)
    }

    func testUnpenalisedWeightedFitMatchesStatsmodels() throws {
        let data = try load()
        let fit = try LogisticRegression.fit(data.x, data.y, weights: data.w)
        XCTAssertTrue(fit.converged)
        XCTAssertFalse(fit.separable)
        assertRelative(fit.intercept, data.expected.unpenalised.intercept)
        for (a, e) in zip(fit.coefficients, data.expected.unpenalised.coefficients) { assertRelative(a, e) }
        assertRelative(fit.deviancePath.last!, data.expected.unpenalised.deviance!)
        for (before, after) in zip(fit.deviancePath, fit.deviancePath.dropFirst()) {
            XCTAssertLessThanOrEqual(after, before * (1 + 1e-12), "deviance never rises (beyond rounding)")
        }
    }

    func testL2FitMatchesScikitLearn() throws {
        let data = try load()
        let fit = try LogisticRegression.fit(data.x, data.y, weights: data.w,
                                             settings: LogisticSettings(l2: data.expected.l2.lambda!))
        XCTAssertTrue(fit.converged)
        assertRelative(fit.intercept, data.expected.l2.intercept)
        for (a, e) in zip(fit.coefficients, data.expected.l2.coefficients) { assertRelative(a, e) }
    }

    func testManyRowsSplitAcrossCoresGiveTheSameFit() throws {
        // 20 copies of the fixture with weight 1 equal the fixture with weights multiplied by 20.
        let data = try load()
        let copies = 60
        let big = Matrix(rows: data.x.rows * copies, columns: 4, values: Array((0..<copies).map { _ in data.x.values }.joined()))
        let bigY = Array((0..<copies).map { _ in data.y }.joined())
        let bigW = Array((0..<copies).map { _ in data.w }.joined())
        let fit = try LogisticRegression.fit(big, bigY, weights: bigW)
        assertRelative(fit.intercept, data.expected.unpenalised.intercept)
        for (a, e) in zip(fit.coefficients, data.expected.unpenalised.coefficients) { assertRelative(a, e) }
    }

    func testSeparableDataAreReportedNotConverged() throws {
        let x = Matrix(rows: 6, columns: 1, values: [-3, -2, -1, 1, 2, 3])
        let fit = try LogisticRegression.fit(x, [0, 0, 0, 1, 1, 1], settings: LogisticSettings(maxIterations: 60))
        XCTAssertTrue(fit.separable)
        XCTAssertFalse(fit.converged)
        // A penalty makes the same problem well posed.
        let penalised = try LogisticRegression.fit(x, [0, 0, 0, 1, 1, 1], settings: LogisticSettings(l2: 1))
        XCTAssertTrue(penalised.converged)
        XCTAssertFalse(penalised.separable)
    }

    func testMetricsMatchScikitLearn() throws {
        let data = try load()
        let m = data.expected.metrics
        XCTAssertEqual(Metrics.rocAUC(y: data.y, score: data.score), m["roc_auc_tied_scores"]!, accuracy: 1e-12)
        XCTAssertEqual(Metrics.rocAUC(y: data.y, score: data.score, weights: data.w), m["roc_auc_weighted_tied_scores"]!, accuracy: 1e-12)
        XCTAssertEqual(Metrics.averagePrecision(y: data.y, score: data.score), m["average_precision_tied_scores"]!, accuracy: 1e-12)
        let fit = try LogisticRegression.fit(data.x, data.y, weights: data.w)
        let p = (0..<data.x.rows).map { i in fit.probability(Array(data.x.values[(i * 4)..<(i * 4 + 4)])) }
        let metrics = Metrics.evaluate(y: data.y, p: p)
        XCTAssertEqual(metrics.logLoss, m["log_loss_unpenalised_fit"]!, accuracy: 1e-8)
        XCTAssertEqual(metrics.brier, m["brier_unpenalised_fit"]!, accuracy: 1e-8)
    }

    func testDecilesLiftAndCaptureByHand() {
        // 20 homes: probabilities 0.95, 0.90, ... ; the top 4 are the only positives.
        let p = (0..<20).map { 1 - Double($0) * 0.05 }
        let y = (0..<20).map { $0 < 4 ? 1.0 : 0.0 }
        let deciles = Metrics.deciles(y: y, p: p)
        XCTAssertEqual(deciles.count, 10)
        XCTAssertEqual(deciles[0].observedRate, 1)
        XCTAssertEqual(deciles[0].lift, 5)           // 1.0 / 0.2
        XCTAssertEqual(deciles[1].cumulativeCapture, 1)
        XCTAssertEqual(deciles[0].meanPredicted, 0.975, accuracy: 1e-12)
        XCTAssertEqual(Metrics.evaluate(y: y, p: p).expectedPositives, p.reduce(0, +), accuracy: 1e-12)
    }
}
