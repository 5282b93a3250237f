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
        var present = values.filter { !$0.isNaN }
        var edges: [Double] = []
        if !present.isEmpty {
            let n = present.count
            // The deciles' sorted positions and the largest value's.
            let ranks = Array(Set((1..<10).map { min(n - 1, $0 * n / 10) } + [n - 1])).sorted()
            let statistics = Dictionary(uniqueKeysWithValues: zip(ranks, orderStatistics(&present, ranks: ranks)))
            for decile in 1..<10 {
                let edge = statistics[min(n - 1, decile * n / 10)]!
                if edges.last != edge { edges.append(edge) }
            }
            if edges.last == statistics[n - 1]! { edges.removeLast() }   // no empty top bin
        }
        var profile = FeatureProfile(feature: feature, edges: edges, shares: [])
        let counts = profile.counts(values)
        profile.shares = counts.map { values.isEmpty ? 0 : Double($0) / Double(values.count) }
        return profile
    }

    /// The values at positions `ranks` (ascending, distinct) of `values` sorted ascending, by a
    /// quickselect that only goes into the parts holding a wanted position; reorders `values`,
    /// which must hold no NaN. Sorting each feature's 2M training values for its deciles was
    /// ~2.5 s of a 1M-home training; this is ~4x less work.
    static func orderStatistics(_ values: inout [Double], ranks: [Int]) -> [Double] {
        var result = [Double](repeating: 0, count: ranks.count)
        var random = SplitMix64(seed: 0xDEC1_1E5)
        values.withUnsafeMutableBufferPointer { v in
            // Parts of `v` still to look into, with the range of `ranks` that falls in each.
            var parts = [(low: 0, high: v.count, first: 0, end: ranks.count)]
            while let part = parts.popLast() {
                guard part.first < part.end else { continue }
                if part.high - part.low <= 16 {
                    v[part.low..<part.high].sort()
                    for k in part.first..<part.end { result[k] = v[ranks[k]] }
                    continue
                }
                // Three ways around a random pivot: below [low, less), equal [less, greater),
                // above [greater, high); many features have few distinct values.
                let pivot = v[part.low + Int(random.next() % UInt64(part.high - part.low))]
                var less = part.low, i = part.low, greater = part.high
                while i < greater {
                    let x = v[i]
                    if x < pivot {
                        v.swapAt(less, i); less += 1; i += 1
                    } else if x > pivot {
                        greater -= 1; v.swapAt(i, greater)
                    } else {
                        i += 1
                    }
                }
                var k = part.first
                while k < part.end, ranks[k] < less { k += 1 }
                let below = k
                while k < part.end, ranks[k] < greater { result[k] = pivot; k += 1 }
                parts.append((part.low, less, part.first, below))
                parts.append((greater, part.high, k, part.end))
            }
        }
        return result
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
