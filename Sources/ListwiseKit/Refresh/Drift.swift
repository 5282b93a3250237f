// Drift (SPEC §5): how far the homes scored now have moved from the homes the model was trained
// on, feature by feature, as a population stability index over the training deciles.

/// A feature's training distribution: decile edges and the share of training rows in each bin
/// (value ≤ edges[0], ..., > edges.last), then the share of missing values.
public struct FeatureProfile: Codable, Equatable, Sendable {
    public var feature: String
    public var edges: [Double]
    public var shares: [Double]

    /// Bins: `edges.count + 1` value bins, then one for missing values.
    public var binCount: Int { edges.count + 2 }

    /// Deciles of `values` (NaN = missing), repeated edges merged.
    public static func learn(_ feature: String, values: [Double]) -> FeatureProfile {
        let present = values.filter { !$0.isNaN }.sorted()
        var edges: [Double] = []
        if !present.isEmpty {
            for decile in 1..<10 {
                let edge = present[min(present.count - 1, decile * present.count / 10)]
                if edges.last != edge { edges.append(edge) }
            }
            if edges.last == present.last { edges.removeLast() }   // no empty top bin
        }
        var profile = FeatureProfile(feature: feature, edges: edges, shares: [])
        let counts = profile.counts(values)
        profile.shares = counts.map { values.isEmpty ? 0 : Double($0) / Double(values.count) }
        return profile
    }

    /// The bin of one value.
    public func bin(_ value: Double) -> Int {
        if value.isNaN { return edges.count + 1 }
        var low = 0, high = edges.count
        while low < high {
            let mid = (low + high) / 2
            if value <= edges[mid] { high = mid } else { low = mid + 1 }
        }
        return low
    }

    public func counts(_ values: [Double]) -> [Int] {
        var counts = Array(repeating: 0, count: binCount)
        for value in values { counts[bin(value)] += 1 }
        return counts
    }
}

public enum Drift {
    /// PSI threshold above which a feature counts as drifted (the usual rule of thumb: < 0.1
    /// stable, 0.1–0.25 some shift, > 0.25 a major shift).
    public static let threshold = 0.25

    /// Population stability index Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) of actual shares a against expected
    /// shares e; shares below 0.0001 count as 0.0001 (an empty bin would make it infinite).
    public static func psi(expected: [Double], actual: [Double]) -> Double {
        zip(expected, actual).reduce(0) { sum, pair in
            let e = max(pair.0, 0.0001), a = max(pair.1, 0.0001)
            return sum + (a - e) * log(a / e)
        }
    }

    /// PSI of scored-home `counts` against the training profile.
    public static func psi(_ profile: FeatureProfile, counts: [Int]) -> Double? {
        let total = counts.reduce(0, +)
        guard total > 0, counts.count == profile.shares.count else { return nil }
        return psi(expected: profile.shares, actual: counts.map { Double($0) / Double(total) })
    }
}

import Foundation
