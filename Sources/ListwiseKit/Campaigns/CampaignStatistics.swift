// Confidence intervals for measured campaigns: the listing rate of contacted against held-out homes.
// Checked against statsmodels by Benchmarks/reference/campaign_statistics_reference.py.
import Foundation

/// A closed interval [lower, upper].
public struct Interval: Codable, Equatable, Sendable {
    public var lower: Double
    public var upper: Double

    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }

    public func contains(_ x: Double) -> Bool { lower <= x && x <= upper }
}

/// Two-sided intervals for binomial rates and for the comparison of two independent groups: a of n1
/// contacted homes against c of n2 held-out homes. `z` is the normal quantile; the default,
/// Φ⁻¹(0.975) as scipy's `norm.isf(0.025)`, gives 95 % intervals.
public enum CampaignStatistics {
    /// Φ⁻¹(0.975), as scipy's `norm.isf(0.025)`.
    public static let z95 = 1.9599639845400545

    /// Wilson's score interval (Wilson 1927) for successes/trials, p = x/n:
    /// (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n).
    /// Equals statsmodels `proportion_confint(x, n, method="wilson")`; with 0 successes the lower
    /// bound is exactly 0 and with n successes the upper is exactly 1 (statsmodels clips to [0, 1]).
    /// nil when trials ≤ 0 or successes is outside 0...trials.
    public static func wilson(successes: Int, trials: Int, z: Double = z95) -> Interval? {
        guard trials > 0, (0...trials).contains(successes) else { return nil }
        let n = Double(trials), p = Double(successes) / n
        let z2 = z * z
        let denominator = 1 + z2 / n
        let centre = (p + z2 / (2 * n)) / denominator
        let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / denominator
        return Interval(lower: successes == 0 ? 0 : max(0, centre - half),
                        upper: successes == trials ? 1 : min(1, centre + half))
    }

    /// Newcombe's hybrid score interval (Newcombe 1998, method 10) for p1 − p2, p1 = a/n1, p2 = c/n2,
    /// from the Wilson intervals [l1, u1] of p1 and [l2, u2] of p2:
    /// lower = p1 − p2 − √((p1 − l1)² + (u2 − p2)²), upper = p1 − p2 + √((u1 − p1)² + (p2 − l2)²).
    /// Equals statsmodels `confint_proportions_2indep(a, n1, c, n2, method="newcomb", compare="diff")`.
    /// nil when n1 or n2 is 0 (or a count is out of range).
    public static func differenceInterval(a: Int, n1: Int, c: Int, n2: Int, z: Double = z95) -> Interval? {
        guard let w1 = wilson(successes: a, trials: n1, z: z), let w2 = wilson(successes: c, trials: n2, z: z) else { return nil }
        let p1 = Double(a) / Double(n1), p2 = Double(c) / Double(n2)
        let lowerArm = ((p1 - w1.lower) * (p1 - w1.lower) + (w2.upper - p2) * (w2.upper - p2)).squareRoot()
        let upperArm = ((w1.upper - p1) * (w1.upper - p1) + (p2 - w2.lower) * (p2 - w2.lower)).squareRoot()
        return Interval(lower: p1 - p2 - lowerArm, upper: p1 - p2 + upperArm)
    }

    /// The risk ratio p1/p2 = (a/n1)/(c/n2) with Katz's log interval (Katz et al. 1978):
    /// exp(ln RR ± z·√(1/a − 1/n1 + 1/c − 1/n2)), as statsmodels
    /// `confint_proportions_2indep(a, n1, c, n2, compare="ratio", method="log")` when a > 0 and c > 0.
    ///
    /// Zero cell (a or c is 0): the log interval is undefined, so the statsmodels "log-adjusted"
    /// convention is used: 0.5 is added to all four counts — a, c, n1 and n2 (n grows by 0.5, not
    /// by 1) — and the same formula is applied to a+½ of n1+½ and c+½ of n2+½, matching
    /// `method="log-adjusted"` for those cases. (statsmodels' log-adjusted adds ½ always; here it is
    /// only used when a cell is 0, so that nonzero counts keep the plain Katz interval.)
    ///
    /// The returned `ratio` is the plain (a/n1)/(c/n2) whenever c > 0 — so 0 when a is 0, which
    /// then lies below the adjusted interval. When c is 0 (and a > 0) the plain ratio is infinite
    /// and the adjusted ((a+½)/(n1+½)) / (½/(n2+½)) is returned: the interval's centre on the log
    /// scale. nil when n1 or n2 is 0, when a count is out of range, or when a and c are both 0
    /// (no events in either group: no ratio to speak of).
    public static func ratioInterval(a: Int, n1: Int, c: Int, n2: Int, z: Double = z95)
        -> (ratio: Double, interval: Interval)? {
        guard n1 > 0, n2 > 0, (0...n1).contains(a), (0...n2).contains(c), a > 0 || c > 0 else { return nil }
        let adjust = a == 0 || c == 0 ? 0.5 : 0
        let (x1, m1, x2, m2) = (Double(a) + adjust, Double(n1) + adjust, Double(c) + adjust, Double(n2) + adjust)
        let adjustedRatio = (x1 / m1) / (x2 / m2)
        let logRatio = log(adjustedRatio)
        let se = (1 / x1 - 1 / m1 + 1 / x2 - 1 / m2).squareRoot()
        let ratio = c > 0 ? (Double(a) / Double(n1)) / (Double(c) / Double(n2)) : adjustedRatio
        return (ratio, Interval(lower: exp(logRatio - z * se), upper: exp(logRatio + z * se)))
    }
}
