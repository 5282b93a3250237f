// Evaluation metrics of a probability model (SPEC §2 "Metrics").
import Foundation

/// One decile of homes ranked by predicted probability (decile 1 = highest scores).
public struct DecileRow: Codable, Equatable, Sendable {
    public var decile: Int
    public var rows: Int
    public var positives: Double
    /// Mean predicted probability in the decile.
    public var meanPredicted: Double
    /// Observed positive rate in the decile.
    public var observedRate: Double
    /// Observed rate / overall rate.
    public var lift: Double
    /// Share of all positives captured by deciles 1...this one.
    public var cumulativeCapture: Double

    enum CodingKeys: String, CodingKey {
        case decile, rows, positives, lift
        case meanPredicted = "mean_predicted", observedRate = "observed_rate", cumulativeCapture = "cumulative_capture"
    }
}

/// The best-scored share of homes and how they did: the lift every likely-to-sell vendor quotes
/// ("the top 5 % listed at 3.1x the base rate").
public struct TopLift: Codable, Equatable, Sendable {
    /// The share of homes, best scored first (0.01 = the top 1 %).
    public var share: Double
    public var rows: Int
    public var positives: Double
    /// Observed positive rate among them.
    public var observedRate: Double
    /// Observed rate / overall rate ("N x the base rate").
    public var lift: Double

    enum CodingKeys: String, CodingKey {
        case share, rows, positives, lift
        case observedRate = "observed_rate"
    }
}

public struct ModelMetrics: Codable, Equatable, Sendable {
    public var rows: Int
    public var positives: Double
    public var expectedPositives: Double
    public var rocAUC: Double
    public var prAUC: Double
    public var logLoss: Double
    public var brier: Double
    /// Lift, capture and calibration (predicted vs observed) by decile.
    public var deciles: [DecileRow]
    /// Lift of the top 1 %, 5 % and 20 % of homes. Nil in model files written before it was kept.
    public var topLift: [TopLift]?

    enum CodingKeys: String, CodingKey {
        case rows, positives, deciles
        case topLift = "top_lift"
        case expectedPositives = "expected_positives", rocAUC = "roc_auc", prAUC = "pr_auc"
        case logLoss = "log_loss", brier
    }
}

public enum Metrics {
    /// All metrics for labels `y` (0/1) and predicted probabilities `p`, optionally weighted.
    public static func evaluate(y: [Double], p: [Double], weights: [Double]? = nil) -> ModelMetrics {
        let w = weights ?? [Double](repeating: 1, count: y.count)
        let total = w.reduce(0, +)
        var positives = 0.0, expected = 0.0, loss = 0.0, brier = 0.0
        for i in y.indices {
            positives += w[i] * y[i]
            expected += w[i] * p[i]
            let clipped = min(max(p[i], 1e-15), 1 - 1e-15)
            loss -= w[i] * (y[i] * log(clipped) + (1 - y[i]) * log(1 - clipped))
            brier += w[i] * (p[i] - y[i]) * (p[i] - y[i])
        }
        // One order for the four: each sorting the rows again was ~0.4 s at 1M rows.
        let order = descendingOrder(p)
        return ModelMetrics(rows: y.count, positives: positives, expectedPositives: expected,
                            rocAUC: rocAUC(y: y, score: p, weights: w, order: order),
                            prAUC: averagePrecision(y: y, score: p, weights: w, order: order),
                            logLoss: total > 0 ? loss / total : .nan, brier: total > 0 ? brier / total : .nan,
                            deciles: deciles(y: y, p: p, order: order), topLift: topLift(y: y, p: p, order: order))
    }

    /// Row indices by descending score, equal scores in input order: (score, index) pairs sorted
    /// in place (an index sort whose comparisons load the scores missed the cache at every step).
    static func descendingOrder(_ score: [Double]) -> [Int] {
        var keyed = score.enumerated().map { (score: $0.element, index: $0.offset) }
        keyed.sort { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
        return keyed.map(\.index)
    }

    /// The shares of homes whose lift `topLift` reports.
    public static let topShares = [0.01, 0.05, 0.2]

    /// For each share s of `shares`: the round(s·n) homes (at least one) with the highest
    /// probabilities (ties in input order), their positive rate and its ratio to the overall rate.
    public static func topLift(y: [Double], p: [Double], shares: [Double] = topShares) -> [TopLift] {
        topLift(y: y, p: p, shares: shares, order: descendingOrder(p))
    }

    static func topLift(y: [Double], p: [Double], shares: [Double] = topShares, order: [Int]) -> [TopLift] {
        let n = y.count
        guard n > 0 else { return [] }
        let overall = y.reduce(0, +) / Double(n)
        return shares.map { share in
            let rows = min(n, max(1, Int((share * Double(n)).rounded())))
            let positives = order[..<rows].reduce(0) { $0 + y[$1] }
            let rate = positives / Double(rows)
            return TopLift(share: share, rows: rows, positives: positives, observedRate: rate, lift: overall > 0 ? rate / overall : .nan)
        }
    }

    /// "top 1 % of homes 4.2x the base rate, top 5 % 3.1x, top 20 % 2.0x"
    public static func liftPhrase(_ lifts: [TopLift]) -> String {
        lifts.enumerated().map { index, lift in
            let share = String(format: "%g", lift.share * 100)
            return index == 0 ? String(format: "top \(share) %% of homes %.1fx the base rate", lift.lift)
                : String(format: "top \(share) %% %.1fx", lift.lift)
        }.joined(separator: ", ")
    }

    /// Exact ROC AUC with ties counted as one half (the Mann–Whitney statistic), as
    /// `sklearn.metrics.roc_auc_score`. NaN when a class is absent.
    public static func rocAUC(y: [Double], score: [Double], weights: [Double]? = nil) -> Double {
        rocAUC(y: y, score: score, weights: weights, order: descendingOrder(score))
    }

    /// `order`: `descendingOrder(score)`, walked from its end (ascending scores), each group of
    /// equal scores summed in input order.
    static func rocAUC(y: [Double], score: [Double], weights: [Double]? = nil, order: [Int]) -> Double {
        let w = weights ?? [Double](repeating: 1, count: y.count)
        var negativesBelow = 0.0, area = 0.0, totalPositive = 0.0, totalNegative = 0.0
        var end = order.count
        while end > 0 {
            var start = end - 1
            while start > 0, score[order[start - 1]] == score[order[end - 1]] { start -= 1 }
            var groupPositive = 0.0, groupNegative = 0.0
            for i in order[start..<end] {
                if y[i] > 0.5 { groupPositive += w[i] } else { groupNegative += w[i] }
            }
            area += groupPositive * (negativesBelow + 0.5 * groupNegative)
            negativesBelow += groupNegative
            totalPositive += groupPositive
            totalNegative += groupNegative
            end = start
        }
        return totalPositive > 0 && totalNegative > 0 ? area / (totalPositive * totalNegative) : .nan
    }

    /// Area under the precision–recall curve as average precision, Σ (Rₖ − Rₖ₋₁) Pₖ over
    /// distinct score thresholds, as `sklearn.metrics.average_precision_score`.
    public static func averagePrecision(y: [Double], score: [Double], weights: [Double]? = nil) -> Double {
        averagePrecision(y: y, score: score, weights: weights, order: descendingOrder(score))
    }

    static func averagePrecision(y: [Double], score: [Double], weights: [Double]? = nil, order: [Int]) -> Double {
        let w = weights ?? [Double](repeating: 1, count: y.count)
        let totalPositive = y.indices.reduce(0) { $0 + w[$1] * y[$1] }
        guard totalPositive > 0 else { return .nan }
        var truePositive = 0.0, falsePositive = 0.0, previousRecall = 0.0, result = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end < order.count, score[order[end]] == score[order[start]] {
                let i = order[end]
                if y[i] > 0.5 { truePositive += w[i] } else { falsePositive += w[i] }
                end += 1
            }
            let recall = truePositive / totalPositive
            let precision = truePositive / (truePositive + falsePositive)
            result += (recall - previousRecall) * precision
            previousRecall = recall
            start = end
        }
        return result
    }

    /// Ten groups of (nearly) equal size by descending probability.
    public static func deciles(y: [Double], p: [Double]) -> [DecileRow] {
        deciles(y: y, p: p, order: descendingOrder(p))
    }

    /// Ten groups of (nearly) equal size by descending probability, equal ones in input order.
    static func deciles(y: [Double], p: [Double], order: [Int]) -> [DecileRow] {
        let n = y.count
        guard n > 0 else { return [] }
        let overall = y.reduce(0, +) / Double(n)
        let totalPositive = y.reduce(0, +)
        var rows: [DecileRow] = []
        var captured = 0.0
        for decile in 0..<10 {
            let lower = decile * n / 10, upper = (decile + 1) * n / 10
            guard upper > lower else { continue }
            let members = order[lower..<upper]
            let positives = members.reduce(0) { $0 + y[$1] }
            let predicted = members.reduce(0) { $0 + p[$1] } / Double(members.count)
            let rate = positives / Double(members.count)
            captured += positives
            rows.append(DecileRow(decile: decile + 1, rows: members.count, positives: positives, meanPredicted: predicted,
                                  observedRate: rate, lift: overall > 0 ? rate / overall : .nan,
                                  cumulativeCapture: totalPositive > 0 ? captured / totalPositive : .nan))
        }
        return rows
    }
}
