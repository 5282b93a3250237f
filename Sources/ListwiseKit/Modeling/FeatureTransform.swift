// Basis expansion and standardisation of raw features: learned from training rows, stored in
// the model file, applied identically at scoring time.
import Foundation

/// How one raw feature becomes model columns.
public struct FeatureTransform: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// x itself.
        case linear
        /// Natural cubic spline with `knots` (linear beyond the boundary knots): K knots give K − 1 columns.
        case naturalSpline = "natural_spline"
        /// x and (x − k)₊ for each knot k: a piecewise-linear curve, tail not clipped.
        case hinge
        /// One column per level other than the reference (the most frequent training level).
        case oneHot = "one_hot"
    }

    public var feature: String
    public var kind: Kind
    /// log(x + logOffset) before the basis, when set.
    public var logOffset: Double?
    public var knots: [Double]
    /// one_hot: level codes (see `RawFeature.propertyTypes`) that get a column.
    public var levels: [Int]
    /// True when training data had missing values: adds a 0/1 `<feature>_missing` column.
    public var missingIndicator: Bool
    /// Output column names (basis columns, then the indicator).
    public var columns: [String]
    /// Basis values used for a missing input: the training means, so that they standardise to 0.
    public var imputed: [Double]
    /// Standardisation of each output column: (value − mean) / scale.
    public var means: [Double]
    public var scales: [Double]

    /// Basis columns (before the missing indicator) for one input value.
    func basis(_ raw: Double, into output: inout [Double]) {
        output.removeAll(keepingCapacity: true)
        if raw.isNaN {
            output.append(contentsOf: imputed.prefix(columns.count - (missingIndicator ? 1 : 0)))
            return
        }
        var x = raw
        if let offset = logOffset { x = log(max(x + offset, 1e-12)) }
        switch kind {
        case .linear:
            output.append(x)
        case .hinge:
            output.append(x)
            for k in knots { output.append(max(0, x - k)) }
        case .naturalSpline:
            output.append(x)
            let last = knots[knots.count - 1]
            func d(_ k: Int) -> Double {
                let a = max(0, x - knots[k]), b = max(0, x - last)
                return (a * a * a - b * b * b) / (last - knots[k])
            }
            let dLast = d(knots.count - 2)
            for k in 0..<(knots.count - 2) { output.append(d(k) - dLast) }
        case .oneHot:
            for level in levels { output.append(Int(raw) == level ? 1 : 0) }
        }
    }

    /// Writes the standardised columns of one value at `target`.
    func write(_ raw: Double, into target: UnsafeMutablePointer<Double>, scratch: inout [Double]) {
        basis(raw, into: &scratch)
        if missingIndicator { scratch.append(raw.isNaN ? 1 : 0) }
        for (j, value) in scratch.enumerated() { target[j] = (value - means[j]) / scales[j] }
    }
}

/// The plan for each raw feature (SPEC §2): splines for curved effects, owner age with knots
/// past 65 and 82, area rates on a log scale, flags as they are.
enum FeaturePlan {
    static func plan(_ feature: RawFeature) -> (kind: FeatureTransform.Kind, logOffset: Double?, fixedKnots: [Double]?, splineKnots: Int) {
        switch feature {
        case .tenureYears: return (.naturalSpline, nil, nil, 5)
        case .ownerAge: return (.hinge, nil, [65, 82], 0)
        case .yearsSinceLoan, .loanToValue, .rateLockIn, .monthsSinceDelisting, .homeAge: return (.naturalSpline, nil, nil, 4)
        case .appreciation: return (.naturalSpline, 0, nil, 4)
        case .livingSqft: return (.linear, 1, nil, 0)
        case .lotSqft: return (.linear, 1, nil, 0)
        case .zipListingRate36Months: return (.linear, 0.05, nil, 0)
        case .propertyType: return (.oneHot, nil, nil, 0)
        case .absentee, .corporate, .defaultLast2Years, .priorSales10Years, .bedrooms, .bathrooms: return (.linear, nil, nil, 0)
        }
    }

    /// Learns a transform from training values (NaN = missing).
    static func learn(_ feature: RawFeature, values: [Double]) -> FeatureTransform {
        let plan = plan(feature)
        let present = values.filter { !$0.isNaN }
        let missing = present.count < values.count
        var transform = FeatureTransform(feature: feature.name, kind: plan.kind, logOffset: plan.logOffset, knots: [],
                                         levels: [], missingIndicator: missing, columns: [], imputed: [], means: [], scales: [])
        var transformed = present
        if let offset = plan.logOffset { transformed = present.map { log(max($0 + offset, 1e-12)) } }
        switch plan.kind {
        case .naturalSpline:
            let sorted = transformed.sorted()
            let count = plan.splineKnots
            var knots: [Double] = []
            if !sorted.isEmpty {
                for k in 0..<count {
                    let q = 0.05 + 0.9 * Double(k) / Double(count - 1)
                    let value = sorted[min(sorted.count - 1, Int(q * Double(sorted.count - 1)))]
                    if knots.last.map({ value > $0 + 1e-9 }) ?? true { knots.append(value) }
                }
            }
            if knots.count >= 3 {
                transform.knots = knots
                transform.columns = [feature.name] + (1...(knots.count - 2)).map { "\(feature.name)_spline\($0)" }
            } else {
                transform.kind = .linear
                transform.columns = [feature.name]
            }
        case .hinge:
            transform.knots = plan.fixedKnots ?? []
            transform.columns = [feature.name] + transform.knots.map { "\(feature.name)_over_\(Int($0))" }
        case .oneHot:
            var counts: [Int: Int] = [:]
            for v in present { counts[Int(v), default: 0] += 1 }
            let reference = counts.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key
            transform.levels = counts.keys.filter { $0 != reference }.sorted()
            transform.columns = transform.levels.map { level in
                "\(feature.name)_\(level < RawFeature.propertyTypes.count ? RawFeature.propertyTypes[level].lowercased() : String(level))"
            }
        case .linear:
            transform.columns = [feature.name]
        }
        if missing { transform.columns.append("\(feature.name)_missing") }
        // Imputed basis values and standardisation, from the training rows.
        let basisCount = transform.columns.count - (missing ? 1 : 0)
        var sums = [Double](repeating: 0, count: basisCount)
        var scratch: [Double] = []
        transform.imputed = Array(repeating: 0, count: basisCount)
        for v in present {
            transform.basis(v, into: &scratch)
            for j in 0..<basisCount { sums[j] += scratch[j] }
        }
        transform.imputed = present.isEmpty ? sums : sums.map { $0 / Double(present.count) }
        let width = transform.columns.count
        var mean = [Double](repeating: 0, count: width), squares = [Double](repeating: 0, count: width)
        transform.means = mean
        transform.scales = Array(repeating: 1, count: width)
        for v in values {
            transform.basis(v, into: &scratch)
            if missing { scratch.append(v.isNaN ? 1 : 0) }
            for j in 0..<width { mean[j] += scratch[j]; squares[j] += scratch[j] * scratch[j] }
        }
        let n = Double(max(values.count, 1))
        transform.means = mean.map { $0 / n }
        transform.scales = zip(mean, squares).map { m, s in
            let variance = s / n - (m / n) * (m / n)
            return variance > 1e-18 ? variance.squareRoot() : 1
        }
        return transform
    }
}
