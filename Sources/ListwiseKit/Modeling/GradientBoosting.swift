// Histogram gradient boosting for the likely-to-sell label (SPEC §10, issue 16), written for
// this job after LightGBM's design: features pre-binned once into at most 255 bins (missing
// values in a bin of their own, sent left or right by the split that gains more), leaf-wise
// growth over per-leaf histograms (the smaller child built, the larger one by subtraction),
// log-loss objective, shrinkage, row subsampling, the number of trees by early stopping on a
// validation set given by the caller (the inner time split: never the reported out-of-time one).
import CPrefetch
import Dispatch
import Foundation

/// Settings of `GradientBoosting.fit`. The defaults are LightGBM's where it has one (leaves 31,
/// learning rate 0.1, 20 rows and 1e-3 hessian per leaf, no penalty, no subsampling, 255 bins).
public struct BoostingSettings: Codable, Equatable, Sendable {
    public var learningRate = 0.1
    public var maxLeaves = 31
    /// 0 = no limit (LightGBM's −1).
    public var maxDepth = 0
    public var minRowsInLeaf = 20
    public var minHessianInLeaf = 1e-3
    /// λ of the leaf values' penalty (λ/2)·w² (LightGBM's lambda_l2).
    public var l2 = 0.0
    /// Share of the rows each tree is grown on (drawn afresh per tree; 1 = all).
    public var subsample = 1.0
    public var maxTrees = 1000
    /// Stop when the validation log loss has not improved for this many trees; keep the best.
    public var earlyStoppingRounds = 50
    /// Bins per feature, the missing bin included (at most 255).
    public var maxBins = 255
    public var seed: UInt64 = 1
    /// Threads that build histograms and update scores (each over a share of a leaf's rows).
    public var threads = min(2, max(1, ProcessInfo.processInfo.activeProcessorCount))

    public init() {}

    enum CodingKeys: String, CodingKey {
        case learningRate = "learning_rate", maxLeaves = "max_leaves", maxDepth = "max_depth"
        case minRowsInLeaf = "min_rows_in_leaf", minHessianInLeaf = "min_hessian_in_leaf", l2, subsample
        case maxTrees = "max_trees", earlyStoppingRounds = "early_stopping_rounds", maxBins = "max_bins", seed, threads
    }
}

/// One regression tree over raw feature values. Node 0 is the root; an internal node sends a
/// row left when `value ≤ threshold` (a missing value goes left when `defaultLeft`); a leaf has
/// `feature == -1` and its (shrunk) output in `value`. `cover` is the number of training rows that
/// reached each node (TreeSHAP weighs the branches by it).
public struct RegressionTree: Codable, Equatable, Sendable {
    public var feature: [Int] = []
    public var threshold: [Double] = []
    public var defaultLeft: [Bool] = []
    public var left: [Int] = []
    public var right: [Int] = []
    public var value: [Double] = []
    public var cover: [Double] = []

    enum CodingKeys: String, CodingKey {
        case feature, threshold, defaultLeft = "default_left", left, right, value, cover
    }

    var nodeCount: Int { feature.count }

    @inline(__always)
    func goesLeft(_ node: Int, _ x: Double) -> Bool {
        x.isNaN ? defaultLeft[node] : x <= threshold[node]
    }

    /// The leaf value for a row whose feature f is `x(f)`.
    @inline(__always)
    func predict(_ x: (Int) -> Double) -> Double {
        var node = 0
        while feature[node] >= 0 {
            node = goesLeft(node, x(feature[node])) ? left[node] : right[node]
        }
        return value[node]
    }

    /// Depth of the deepest leaf (the root alone: 0).
    var depth: Int {
        func depth(_ node: Int) -> Int { feature[node] < 0 ? 0 : 1 + max(depth(left[node]), depth(right[node])) }
        return nodeCount == 0 ? 0 : depth(0)
    }

    mutating func addNode(cover: Double) -> Int {
        feature.append(-1); threshold.append(0); defaultLeft.append(false)
        left.append(-1); right.append(-1); value.append(0); self.cover.append(cover)
        return feature.count - 1
    }
}

/// A tree laid out for walking many rows: a node's children at `children[2k]` (left) and
/// `children[2k + 1]` (right), picked by index rather than by a branch on the row's value (the
/// branches were mispredicted about one split in three, ~35 ns a row and tree). Walks take eight
/// rows side by side a level at a time until all eight are at leaves, so a leaf leads to itself
/// (feature 0, both children itself): one row's walk is a chain of dependent loads, and eight
/// chains overlap.
struct TreeWalk {
    var feature: [Int32]
    var children: [Int32]
    /// 1 when missing values go left.
    var missingLeft: [Int]
    /// 1 for an inner node, 0 for a leaf.
    var inner: [Int]
    static let lanes = 8

    init(_ tree: RegressionTree) {
        feature = tree.feature.map { Int32(max($0, 0)) }
        children = tree.left.indices.flatMap { node in
            tree.feature[node] < 0 ? [Int32(node), Int32(node)] : [Int32(tree.left[node]), Int32(tree.right[node])]
        }
        missingLeft = tree.defaultLeft.map { $0 ? 1 : 0 }
        inner = tree.feature.map { $0 >= 0 ? 1 : 0 }
    }

    /// Calls `leaf(i, node)` with the leaf of each row i in `range`, `step(node, i)` being the
    /// node a row goes to from an inner node (any node, for a leaf).
    @inline(__always)
    func forEachLeaf(_ range: Range<Int>, step: (Int, Int) -> Int, leaf: (Int, Int) -> Void) {
        inner.withUnsafeBufferPointer { inner in
            var nodes = (0, 0, 0, 0, 0, 0, 0, 0)
            var i = range.lowerBound
            withUnsafeMutableBytes(of: &nodes) { raw in
                let nodes = raw.bindMemory(to: Int.self).baseAddress!
                while i &+ Self.lanes <= range.upperBound {
                    for j in 0..<Self.lanes { nodes[j] = 0 }
                    var active = inner[0]
                    while active != 0 {
                        active = 0
                        for j in 0..<Self.lanes {
                            let next = step(nodes[j], i &+ j)
                            nodes[j] = next
                            active |= inner[next]
                        }
                    }
                    for j in 0..<Self.lanes { leaf(i &+ j, nodes[j]) }
                    i &+= Self.lanes
                }
            }
            while i < range.upperBound {
                var node = 0
                while inner[node] != 0 { node = step(node, i) }
                leaf(i, node)
                i &+= 1
            }
        }
    }
}

/// A fitted ensemble: raw score (log-odds) = `baseScore` + Σ trees, over the raw features listed
/// in `features` (names of `RawFeature`, in the order the trees' feature indices refer to).
public struct BoostedTrees: Codable, Equatable, Sendable {
    public var features: [String]
    public var baseScore: Double
    public var trees: [RegressionTree]
    public var settings: BoostingSettings
    /// Validation log loss after each tree (the early-stopping curve), when a validation set was given.
    public var validationLogLoss: [Double]?

    enum CodingKeys: String, CodingKey {
        case features, baseScore = "base_score", trees, settings, validationLogLoss = "validation_log_loss"
    }

    /// The raw score of one row.
    @inline(__always)
    public func rawScore(_ x: (Int) -> Double) -> Double {
        var sum = baseScore
        for tree in trees { sum += tree.predict(x) }
        return sum
    }

    /// The raw scores of `count` rows given column by column (`columns[f][i]` = feature f of row
    /// i), tree by tree over shares of the rows on `threads` threads (row by row through
    /// `rawScore`, 1M homes took 3.9 s for 44 trees).
    func rawScores(columns: [UnsafePointer<Double>], count: Int, threads: Int = 1) -> [Double] {
        var scores = [Double](repeating: baseScore, count: count)
        let walks = trees.map(TreeWalk.init)
        scores.withUnsafeMutableBufferPointer { scores in
            columns.withUnsafeBufferPointer { columns in
              parallelRanges(count, threads) { range in
                for (tree, walk) in zip(trees, walks) {
                    walk.feature.withUnsafeBufferPointer { feature in
                    walk.children.withUnsafeBufferPointer { children in
                    walk.missingLeft.withUnsafeBufferPointer { missingLeft in
                    tree.threshold.withUnsafeBufferPointer { threshold in
                    tree.value.withUnsafeBufferPointer { value in
                        walk.forEachLeaf(range, step: { node, i in
                            // Right unless x ≤ threshold, or missing and missing goes left.
                            let x = columns[Int(feature[node])][i]
                            let above = x <= threshold[node] ? 0 : 1, missing = x.isNaN ? 1 : 0
                            return Int(children[2 &* node &+ (above ^ (missing & missingLeft[node]))])
                        }, leaf: { i, node in scores[i] += value[node] })
                    }}}}}
                }
              }
            }
        }
        return scores
    }
}

/// Validation rows binned once, column-major (`bins[f · rows + i]`, `GradientBoosting.missingBin`
/// for a missing value), as the binning writes them: the early-stopping walk reads them in place
/// (eight rows side by side read adjacent bytes of one column).
struct ColumnBins {
    var bins: [UInt8]
    var rows: Int
}

/// Each feature's bin upper bounds, learned from training values.
struct FeatureBins: Equatable {
    /// Ascending; the last is +∞. A value goes to the first bin whose bound is ≥ it, so a split
    /// "bin ≤ t" is "value ≤ bounds[t]".
    var bounds: [[Double]]

    /// Bounds from the training values of each feature (NaN = missing): one bin per distinct value
    /// when there are few enough (cut halfway between neighbours, as LightGBM does), else bins of
    /// about equal counts over a sample of at most `sampleSize` values.
    static func learn(_ columns: [[Double]], maxBins: Int, sampleSize: Int = 200_000, seed: UInt64 = 1) -> FeatureBins {
        let valueBins = max(1, min(254, maxBins - 1))
        return FeatureBins(bounds: columns.map { column in
            var present = column.filter { !$0.isNaN }
            if present.count > sampleSize {
                var random = SplitMix64(seed: seed)
                for i in 0..<sampleSize { present.swapAt(i, i + Int(random.next() % UInt64(present.count - i))) }
                present.removeLast(present.count - sampleSize)
            }
            RadixSort.sort(&present)
            var distinct: [Double] = [], counts: [Int] = []
            for v in present {
                if let last = distinct.last, last == v { counts[counts.count - 1] += 1 } else { distinct.append(v); counts.append(1) }
            }
            guard distinct.count > 1 else { return [.infinity] }
            var bounds: [Double] = []
            if distinct.count <= valueBins {
                for k in 0..<(distinct.count - 1) { bounds.append(midpoint(distinct[k], distinct[k + 1])) }
            } else {
                // Greedy equal-count bins: close a bin once it holds its share of what is left.
                var remaining = present.count, binsLeft = valueBins, filled = 0
                for k in 0..<(distinct.count - 1) {
                    filled += counts[k]
                    let share = Double(remaining) / Double(binsLeft)
                    if Double(filled) >= share || distinct.count - 1 - k < binsLeft {
                        bounds.append(midpoint(distinct[k], distinct[k + 1]))
                        remaining -= filled
                        filled = 0
                        binsLeft -= 1
                        if binsLeft == 1 { break }
                    }
                }
            }
            bounds.append(.infinity)
            return bounds
        })
    }

    private static func midpoint(_ a: Double, _ b: Double) -> Double {
        let m = a + (b - a) / 2
        return m < b ? m : a
    }

    @inline(__always)
    func bin(_ value: Double, feature: Int) -> UInt8 {
        if value.isNaN { return GradientBoosting.missingBin }
        let b = bounds[feature]
        var low = 0, high = b.count - 1
        while low < high {
            let mid = (low + high) / 2
            if value <= b[mid] { high = mid } else { low = mid + 1 }
        }
        return UInt8(low)
    }

    /// Writes the bins of `values` (feature `feature`'s value of each row) to `column`: the same
    /// bins as `bin(_:feature:)`, found without a branch on the data. A value's bin is the number
    /// of bounds below it; with the bounds padded to 256 by +∞, that is 16 × (how many of every
    /// 16th bound are below it) + (how many of the 16 bounds in its block are below it): 32
    /// comparisons whose results are added. The binary search mispredicted about every other step
    /// (binning was ~1 s of a 1M-home training), and its cmov version was turned back into branches
    /// by the compiler.
    func bin(_ values: [Double], feature: Int, into column: UnsafeMutablePointer<UInt8>) {
        var padded = bounds[feature] + [Double](repeating: .infinity, count: 256 - bounds[feature].count)
        var coarse = (0..<16).map { padded[16 * $0 + 15] }
        padded.withUnsafeMutableBufferPointer { padded in
            coarse.withUnsafeMutableBufferPointer { coarse in
                let (padded, coarse) = (padded.baseAddress!, coarse.baseAddress!)
                @inline(__always) func below(_ value: Double, _ block: UnsafePointer<Double>) -> Int {
                    var count = 0
                    for k in 0..<16 { count &+= Int(unsafeBitCast(block[k] < value, to: UInt8.self)) }
                    return count
                }
                for (i, value) in values.enumerated() {
                    let block = below(value, coarse) &* 16
                    let bin = block &+ below(value, padded + block)
                    column[i] = value.isNaN ? GradientBoosting.missingBin : UInt8(truncatingIfNeeded: bin)
                }
            }
        }
    }
}

/// A small deterministic generator (SplitMix64) for subsampling and bin samples.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

public enum GradientBoosting {
    static let missingBin: UInt8 = 255
    /// Histogram slots per feature (value bins 0...253, the missing bin 255).
    static let slots = 256

    /// Minimises the log loss −Σ [y log p + (1 − y) log(1 − p)], p = σ(F), F = base + Σ trees,
    /// by gradient boosting with second-order (Newton) leaves: each tree is grown leaf-wise on
    /// the gradients gᵢ = pᵢ − yᵢ and hessians hᵢ = pᵢ(1 − pᵢ) of the rows drawn for it, splitting
    /// the leaf whose best split gains most, gain = G_L²/(H_L + λ) + G_R²/(H_R + λ) − G²/(H + λ)
    /// (LightGBM's), until `maxLeaves`; a leaf's value is −η·G/(H + λ). The base score is the
    /// log-odds of the training base rate. With a validation set, the ensemble is cut back to the
    /// tree count with the lowest validation log loss once it has not improved for
    /// `earlyStoppingRounds` trees (or at `maxTrees`).
    ///
    /// `training` and `validation` hold raw feature values column by column (NaN = missing).
    static func fit(features: [String], training: [[Double]], labels: [Double], validation: [[Double]]? = nil,
                    validationLabels: [Double]? = nil, settings: BoostingSettings = BoostingSettings(),
                    progress: ((_ trees: Int, _ validationLogLoss: Double?) -> Void)? = nil) throws -> BoostedTrees {
        try fit(features: features, column: { training[$0] }, labels: binaryLabels(labels),
                validationColumn: validation.map { columns in { columns[$0] } }, validationLabels: validationLabels,
                settings: settings, progress: progress).trees
    }

    /// Labels 0 and 1 as one byte each (the booster's form: 8 bytes a row were 157 MB of a
    /// 10M-home refit); any other value is an error.
    static func binaryLabels(_ y: [Double]) throws -> [UInt8] {
        try y.map { value in
            guard value == 0 || value == 1 else { throw ListwiseError.usage("boosting labels must be 0 or 1, not \(value)") }
            return value == 1 ? 1 : 0
        }
    }

    /// Mean log loss of raw scores, as two half sums added in order (the same number on one
    /// thread or two), the halves on two threads when `threads` > 1.
    ///
    /// Σ log(1 + e^f) − y·f is taken as Σ (max(f, 0) − y·f) + log Π (1 + e^−|f|): one logarithm of a
    /// product of factors in [1, 2] (its exponent moved to an integer every 32 rows), where a
    /// log1p a row was half the time of this pass (~0.2 s of a 1M-home inner split). Each factor's
    /// rounding is a relative 1.1e-16, so the sum is off by at most n · 1.1e-16 nats and the mean
    /// by 1.1e-16 (GradientBoostingTests: within 1e-14 of the log1p sum).
    static func logLoss(_ y: [Double], _ scores: [Double], threads: Int = 1, pair: ThreadPair? = nil) -> Double {
        let n = min(y.count, scores.count)
        let sums = y.withUnsafeBufferPointer { y in
            scores.withUnsafeBufferPointer { scores in
                inTwoHalves(n, parallel: threads > 1, pair: pair) { half in
                    var linear = 0.0, product = 1.0, exponent = 0, pending = 0
                    for i in half {
                        let f = scores[i]
                        linear += max(f, 0) - y[i] * f
                        product *= 1 + exp(-abs(f))
                        pending &+= 1
                        if pending == 32 {
                            exponent &+= Int(product.exponent)
                            product = product.significand
                            pending = 0
                        }
                    }
                    return linear + (log(product) + Double(exponent) * M_LN2)
                }
            }
        }
        return (sums.0 + sums.1) / Double(max(n, 1))
    }

    /// The fit, with the raw features handed over one column at a time (`column(f)`: feature f of
    /// every training row), so that only the binned bytes stay: one byte a value, and the labels
    /// one byte a row (0 or 1). Also returns the validation rows' raw scores at the kept tree
    /// count. `alsoLearn(f, values)` is called with each training column once it is binned, on
    /// the thread that binned it (concurrently for different features): the caller learns what
    /// else it needs from the values without reading them a second time.
    static func fit(features: [String], column: (Int) throws -> [Double], labels: [UInt8],
                    validationColumn: ((Int) throws -> [Double])? = nil, validationLabels: [Double]? = nil,
                    settings: BoostingSettings = BoostingSettings(),
                    progress: ((_ trees: Int, _ validationLogLoss: Double?) -> Void)? = nil,
                    alsoLearn: ((_ feature: Int, _ values: [Double]) -> Void)? = nil) throws -> BoostingFit {
        let n = labels.count
        guard labels.allSatisfy({ $0 <= 1 }) else { throw ListwiseError.usage("boosting labels must be 0 or 1") }
        guard settings.maxBins >= 2, settings.maxBins <= 255, settings.maxLeaves >= 2, settings.learningRate > 0,
              settings.subsample > 0, settings.subsample <= 1, settings.maxTrees >= 0 else {
            throw ListwiseError.usage("boosting settings out of range (bins 2...255, leaves ≥ 2, learning rate > 0, subsample in (0, 1], trees ≥ 0)")
        }
        let width = features.count, threads = max(1, settings.threads)
        let validationRows = validationColumn == nil ? nil : validationLabels?.count
        // Each feature's bins learned and its values binned on one of the threads, into
        // column-major bytes; the values are read one feature at a time in feature order (the
        // caller's `column` may hash them as they come), by the thread that then bins them, while
        // the others bin theirs. (Reading two features, then binning them on two threads, left
        // a core idle through every read: ~1 s of a 1M-home training.)
        var bounds = [[Double]](repeating: [], count: width)
        var columnBins = [UInt8](repeating: 0, count: n * width)
        var validColumnBins = [UInt8](repeating: 0, count: (validationRows ?? 0) * width)
        try bounds.withUnsafeMutableBufferPointer { bounds in
        try columnBins.withUnsafeMutableBufferPointer { columnBins in
        try validColumnBins.withUnsafeMutableBufferPointer { validColumnBins in
            try producedInOrder(width, workers: threads, produce: { f -> (values: [Double], validation: [Double]) in
                let values = try column(f)
                guard values.count == n else {
                    throw LinearAlgebraError.dimensionMismatch("feature \(features[f]): \(values.count) values for \(n) labels")
                }
                guard let validationColumn, let validationRows else { return (values, []) }
                let validation = try validationColumn(f)
                guard validation.count == validationRows else {
                    throw LinearAlgebraError.dimensionMismatch("feature \(features[f]): \(validation.count) validation values for \(validationRows) labels")
                }
                return (values, validation)
            }, consume: { f, item in
                let learned = FeatureBins.learn([item.values], maxBins: settings.maxBins, seed: settings.seed &+ UInt64(f))
                bounds[f] = learned.bounds[0]
                learned.bin(item.values, feature: 0, into: columnBins.baseAddress! + f * n)
                if let validationRows {
                    learned.bin(item.validation, feature: 0, into: validColumnBins.baseAddress! + f * validationRows)
                }
                alsoLearn?(f, item.values)
            })
        }}}
        let valid = validationRows.map { ColumnBins(bins: validColumnBins, rows: $0) }
        validColumnBins = []
        return try Booster(columnBins: consume columnBins, labels: labels, bins: FeatureBins(bounds: bounds),
                           features: features, settings: settings)
            .run(validation: valid, validationLabels: validationLabels, progress: progress)
    }
}

/// A fitted ensemble, the raw scores of its training rows (all trees grown), and, when it was
/// early-stopped on validation rows, their raw scores at the kept tree count.
struct BoostingFit {
    var trees: BoostedTrees
    var trainingScores: [Double]
    var validationScores: [Double]?
}

/// One leaf's histogram: per feature and bin (feature-major, `GradientBoosting.slots` bins a
/// feature), the sums of gradient and hessian as one 16-byte pair, and the row count apart, 4
/// bytes. One 32-byte slot (g, h, n, padding) cost two vector adds of two doubles (without AVX)
/// where the pair is one, and twice the cache lines.
struct Histogram {
    let pairs: UnsafeMutablePointer<SIMD2<Double>>
    let counts: UnsafeMutablePointer<UInt32>
    let slotCount: Int

    static func allocate(slots: Int) -> Histogram {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: slots * 20, alignment: 16)
        return Histogram(pairs: raw.bindMemory(to: SIMD2<Double>.self, capacity: slots),
                         counts: (raw + slots * 16).bindMemory(to: UInt32.self, capacity: slots), slotCount: slots)
    }

    func deallocate() { UnsafeMutableRawPointer(pairs).deallocate() }

    func zero() {
        pairs.initialize(repeating: .zero, count: slotCount)
        counts.initialize(repeating: 0, count: slotCount)
    }

    /// self -= other, slot by slot.
    func subtract(_ other: Histogram) {
        for k in 0..<slotCount { pairs[k] -= other.pairs[k] }
        for k in 0..<slotCount { counts[k] &-= other.counts[k] }
    }

    /// self += other, slot by slot.
    func add(_ other: Histogram) {
        for k in 0..<slotCount { pairs[k] += other.pairs[k] }
        for k in 0..<slotCount { counts[k] &+= other.counts[k] }
    }
}

/// The state of one boosting run.
private final class Booster {
    /// Training rows.
    let n: Int
    /// 0 or 1.
    let labels: [UInt8]
    let bins: FeatureBins
    let features: [String]
    let settings: BoostingSettings
    let width: Int
    /// Per training row (pointers: the threads write disjoint shares).
    let scores: UnsafeMutablePointer<Double>
    /// Each training row's record, `recordStride` = 16 + 8 · `binWords` bytes, packed: its gradient
    /// and hessian (one 16-byte load, one 16-byte add a slot), then its bins, read as `binWords`
    /// 8-byte words. A histogram of a small leaf reads its rows scattered: ~1.5 cache lines a row
    /// this way, where the pair and the bins in arrays of their own cost ~2.3 (~40 % of a
    /// histogram's time was waiting on those loads at 1M homes). Records padded to 48 or 64 bytes
    /// (aligned, 1 line a row at 64) measured no faster and cost 15–50 MB more at 1M homes.
    let records: UnsafeMutableRawPointer
    let recordStride: Int
    let binWords: Int
    /// The bins again, column-major (`columnBins[f · rows + i]`), for partitions: a leaf's rows
    /// are in ascending order, so one feature's bytes are read nearly in sequence, where the
    /// row-major copy cost a cache line a row.
    private(set) var columnBins: [UInt8]
    /// Whether `records` and `columnBins` were given back (at the end of `run`).
    private var released = false
    var random: SplitMix64
    /// The two threads of `run`'s passes when `settings.threads` is 2 (GCD's for more). Its
    /// hand-offs let leaves from 8,192 rows be built and split on both cores: through GCD only
    /// those from 20,000–50,000 gained, and a 100k-home training took 0.93 s against 0.80 s
    /// (medians of 7 interleaved runs, README).
    private(set) var pair: ThreadPair?

    init(columnBins: [UInt8], labels: [UInt8], bins: FeatureBins, features: [String], settings: BoostingSettings) throws {
        let n = labels.count, width = features.count
        self.n = n
        self.labels = labels
        self.bins = bins
        self.features = features
        self.settings = settings
        self.width = width
        scores = .allocate(capacity: max(1, n))
        binWords = (width + 7) / 8
        let stride = 16 + 8 * binWords
        recordStride = stride
        records = .allocate(byteCount: max(1, n) * stride, alignment: 16)
        // The bins into the records (the last word's spare bytes zero), shares of the rows on the
        // threads; the pairs are written by each tree's gradient pass before they are read.
        let (records, words) = (records, binWords)
        columnBins.withUnsafeBufferPointer { columns in
            parallelRanges(n, max(1, settings.threads)) { range in
                for i in range {
                    let record = records + i &* stride + 16
                    if words > 0 { record.storeBytes(of: 0 as UInt64, toByteOffset: 8 &* (words &- 1), as: UInt64.self) }
                    for f in 0..<width { record.storeBytes(of: columns[f &* n &+ i], toByteOffset: f, as: UInt8.self) }
                }
            }
        }
        self.columnBins = columnBins
        random = SplitMix64(seed: settings.seed ^ 0x5EED)
    }

    deinit { scores.deallocate(); if !released { records.deallocate() } }

    /// Gives back the records and the column bins once the trees are grown, before the training
    /// scores are copied out (at 10M homes the records alone are ~780 MB: the copy beside them
    /// was the refit's peak).
    private func release() {
        guard !released else { return }
        released = true
        records.deallocate()
        columnBins = []
    }

    /// The gradient and hessian of training row `i`.
    @inline(__always)
    func pair(_ i: Int) -> SIMD2<Double> { UnsafeRawPointer(records + i &* recordStride).loadUnaligned(as: SIMD2<Double>.self) }

    /// A tree while it grows: nodes in bin terms, and the bin threshold of each split.
    struct Split { var feature = -1; var bin = 0; var defaultLeft = false; var gain = 0.0
        var leftG = 0.0, leftH = 0.0, leftN = 0.0 }
    struct Leaf { var node: Int; var begin: Int; var end: Int; var depth: Int; var g: Double; var h: Double
        var histogram: Histogram; var best: Split
        /// The leaf's share of the validation rows (`SplitRows`), when there are some.
        var validation = 0..<0 }
    /// Rows that a tree's splits are applied to as it grows, besides its training rows (the
    /// validation rows): each leaf's end up contiguous in `rows`, in ascending order; their bins
    /// are column-major, feature f's at `columns + f · count`.
    struct SplitRows { var rows: UnsafeMutablePointer<Int32>; var scratch: UnsafeMutablePointer<Int32>; var count: Int
        var columns: UnsafePointer<UInt8> }
    /// A grown tree's leaves: node, share of the training rows and of the validation rows.
    typealias LeafRows = [(node: Int, rows: Range<Int>, validation: Range<Int>)]

    func run(validation: ColumnBins?, validationLabels: [Double]?, progress: ((Int, Double?) -> Void)?) throws -> BoostingFit {
        let n = self.n
        let positives = Double(labels.reduce(0) { $0 + Int($1) })
        let rate = min(max(positives / Double(max(n, 1)), 1e-12), 1 - 1e-12)
        let base = log(rate / (1 - rate))
        for i in 0..<n { scores[i] = base }
        var validScores = validation.map { [Double](repeating: base, count: $0.rows) } ?? []
        var curve: [Double] = []
        var trees: [RegressionTree] = []
        // The base score alone is the first candidate: trees are kept only while they help.
        var best = (loss: validationLabels.map { GradientBoosting.logLoss($0, validScores) } ?? .infinity, trees: 0)
        var bestScores: [Double]? = validation == nil ? nil : validScores
        // The training rows' scores at the best tree count, kept as they pass (taking the trees
        // past the best off again afterwards walked 50 trees over every row: 0.5 s at 1M homes).
        var bestTrainingScores: [Double]? = validation == nil ? nil : Array(UnsafeBufferPointer(start: scores, count: n))
        let threads = max(1, settings.threads)
        pair = threads == 2 ? ThreadPair() : nil
        defer { pair?.stop(); pair = nil }
        // The validation rows are split with each tree as it grows, like the training rows, and
        // their scores then updated leaf by leaf: walking every row down each tree was ~0.8 s of
        // a 1M-home inner split, the splits ~0.4 s.
        let validRows = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, validation?.rows ?? 0))
        let validScratch = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, validation?.rows ?? 0))
        defer { validRows.deallocate(); validScratch.deallocate() }
        // The training rows' order and the partition's scratch, made once: filled afresh on the
        // threads for each tree (appended one by one and zeroed, they were ~0.4 s of one core at
        // 1M homes).
        var rows = [Int32](repeating: 0, count: settings.subsample < 1 ? 0 : n)
        let scratch = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, n))
        func fillIdentity(_ rows: UnsafeMutablePointer<Int32>, _ count: Int) {
            parallelRanges(count, threads, pair: pair) { range in for i in range { rows[i] = Int32(truncatingIfNeeded: i) } }
        }

        for _ in 0..<settings.maxTrees {
            // Without subsampling, each tree's rows are all rows: the root's gradient sums come
            // from the pass that writes the gradients.
            let sums = gradients()
            let rootSums = settings.subsample >= 1 ? sums : nil
            if settings.subsample < 1 {
                rows.removeAll(keepingCapacity: true)
                let cut = UInt64(settings.subsample * Double(UInt64.max >> 11))
                for i in 0..<n where (random.next() >> 11) < cut { rows.append(Int32(i)) }
            } else {
                rows.withUnsafeMutableBufferPointer { fillIdentity($0.baseAddress!, n) }
            }
            let grown: (RegressionTree, [Int], LeafRows)
            if let validation {
                fillIdentity(validRows, validation.rows)
                grown = validation.bins.withUnsafeBufferPointer { bins in
                    grow(rows: &rows, scratch: scratch, sums: rootSums, validation: SplitRows(
                        rows: validRows, scratch: validScratch, count: validation.rows, columns: bins.baseAddress!))
                }
            } else {
                grown = grow(rows: &rows, scratch: scratch, sums: rootSums, validation: nil)
            }
            let (tree, binThresholds, leafRows) = grown
            let grew = tree.nodeCount > 1
            // Scores of every training row, then of the validation rows. Without subsampling each
            // row sits in one leaf's share of `rows`: adding the leaf values there costs one write
            // a row, not a walk down the tree (the walk was ~12 % of a fit at 1M homes).
            if settings.subsample >= 1 {
                rows.withUnsafeBufferPointer {
                    updateScores(leafRows.map { (tree.value[$0.node], $0.rows) }, rows: $0.baseAddress!, count: n, scores: scores)
                }
            } else {
                applyBinned(tree, binThresholds, bins: UnsafeRawPointer(records + 16), rowStride: recordStride, featureStride: 1,
                            count: n, scores: scores)
            }
            trees.append(tree)
            var loss: Double?
            if let validation, let validationLabels {
                validScores.withUnsafeMutableBufferPointer {
                    updateScores(leafRows.map { (tree.value[$0.node], $0.validation) }, rows: validRows, count: validation.rows,
                                 scores: $0.baseAddress!)
                }
                let value = GradientBoosting.logLoss(validationLabels, validScores, threads: settings.threads, pair: pair)
                curve.append(value)
                loss = value
                if value < best.loss - 1e-15 {
                    best = (value, trees.count)
                    bestScores = validScores
                    bestTrainingScores!.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: scores, count: n) }
                }
                progress?(trees.count, loss)
                if trees.count - best.trees >= settings.earlyStoppingRounds { break }
            } else {
                progress?(trees.count, nil)
            }
            if !grew { break }
        }
        rows = []
        scratch.deallocate()
        release()
        let trainingScores = bestTrainingScores ?? Array(UnsafeBufferPointer(start: scores, count: n))
        if validation != nil { trees.removeLast(trees.count - best.trees) }
        let ensemble = BoostedTrees(features: features, baseScore: base, trees: trees, settings: settings,
                                    validationLogLoss: validation == nil ? nil : curve)
        return BoostingFit(trees: ensemble, trainingScores: trainingScores, validationScores: validation == nil ? nil : bestScores)
    }

    /// Writes every training row's gradient and hessian of the log loss at its current score into
    /// its record; returns their sums, over two fixed halves of the rows added in order (the same
    /// number on one thread or two).
    func gradients() -> SIMD2<Double> {
        let (scores, records, stride) = (self.scores, self.records, recordStride)
        let sums = labels.withUnsafeBufferPointer { labels in
            inTwoHalves(n, parallel: settings.threads > 1, pair: pair) { half in
                var sum = SIMD2<Double>.zero
                for i in half { sum += Self.writeGradient(scores[i], labels[i], into: records + i &* stride) }
                return sum
            }
        }
        return sums.0 + sums.1
    }

    @inline(__always)
    static func writeGradient(_ score: Double, _ label: UInt8, into record: UnsafeMutableRawPointer) -> SIMD2<Double> {
        let p = LogisticRegression.sigmoid(score)
        let pair = SIMD2(p - Double(label), max(p * (1 - p), 1e-16))
        record.storeBytes(of: pair, as: SIMD2<Double>.self)
        return pair
    }

    /// Adds each leaf's value to the scores of its rows, for a tree grown on every row:
    /// `leaves` are the leaves' values and shares of `rows[0..<count]`, which they cover. Two
    /// halves of the positions on two threads, the scores of the rows ahead prefetched (a leaf's
    /// rows are ascending but scattered).
    func updateScores(_ leaves: [(value: Double, rows: Range<Int>)], rows: UnsafePointer<Int32>, count: Int,
                      scores: UnsafeMutablePointer<Double>) {
        _ = inTwoHalves(count, parallel: settings.threads > 1, pair: pair) { half in
            let ahead = 16
            for leaf in leaves {
                let range = leaf.rows.clamped(to: half)
                guard !range.isEmpty else { continue }
                let value = leaf.value
                for k in range {
                    if k &+ ahead < half.upperBound { listwise_prefetch_write(scores + Int(rows[k &+ ahead])) }
                    scores[Int(rows[k])] += value
                }
            }
        }
    }

    /// Adds a tree's leaf values to `scores` for `count` rows, walking the tree in bin terms; row
    /// i's bin of feature f is at `bins + i · rowStride + f · featureStride` (records: the row's
    /// stride and 1; column-major bins: 1 and the row count). Eight rows at a time: one row at a
    /// time, the validation rows' walks were ~1 s of a 1M-home training. (Now only for the
    /// training rows when they are subsampled: the rows a tree was not grown on have no leaf
    /// share; the validation rows are split as the tree grows.)
    func applyBinned(_ tree: RegressionTree, _ binThreshold: [Int], bins: UnsafeRawPointer, rowStride: Int, featureStride: Int,
                     count: Int, scores: UnsafeMutablePointer<Double>) {
        let walk = TreeWalk(tree)
        walk.feature.withUnsafeBufferPointer { feature in
        walk.children.withUnsafeBufferPointer { children in
        walk.missingLeft.withUnsafeBufferPointer { missingLeft in
        binThreshold.withUnsafeBufferPointer { threshold in
        tree.value.withUnsafeBufferPointer { value in
            parallelRanges(count, max(1, settings.threads), pair: pair) { range in
                walk.forEachLeaf(range, step: { node, i in
                    // Right when above the threshold (the missing bin is above every one) unless
                    // missing and missing goes left: no branch on the data.
                    let b = Int((bins + i &* rowStride).load(fromByteOffset: Int(feature[node]) &* featureStride, as: UInt8.self))
                    let above = b > threshold[node] ? 1 : 0, missing = b == Int(GradientBoosting.missingBin) ? 1 : 0
                    return Int(children[2 &* node &+ (above ^ (missing & missingLeft[node]))])
                }, leaf: { i, node in scores[i] += value[node] })
            }
        }}}}}
    }

    /// Grows one tree on `rows` (reordered in place: each leaf's rows end up contiguous); returns
    /// the tree, each node's bin threshold, and each leaf's node and share of `rows`.
    func grow(rows: inout [Int32], scratch: UnsafeMutablePointer<Int32>, sums: SIMD2<Double>?, validation: SplitRows?) -> (RegressionTree, [Int], LeafRows) {
        let slots = GradientBoosting.slots
        var pool: [Histogram] = []
        func histogram() -> Histogram {
            if let h = pool.popLast() { return h }
            return Histogram.allocate(slots: width * slots)
        }
        var tree = RegressionTree()
        var binThreshold: [Int] = []
        var leaves: [Leaf] = []
        defer {
            for leaf in leaves { pool.append(leaf.histogram) }
            for h in pool { h.deallocate() }
        }
        var g = 0.0, h = 0.0
        if let sums { (g, h) = (sums.x, sums.y) } else { for r in rows { let v = pair(Int(r)); g += v.x; h += v.y } }
        let root = tree.addNode(cover: Double(rows.count)); binThreshold.append(-1)
        let rootHistogram = histogram()
        rows.withUnsafeBufferPointer { build(rootHistogram, rows: $0, 0..<$0.count) }
        leaves.append(Leaf(node: root, begin: 0, end: rows.count, depth: 0, g: g, h: h, histogram: rootHistogram,
                           best: bestSplit(rootHistogram, g: g, h: h, n: Double(rows.count), depth: 0),
                           validation: 0..<(validation?.count ?? 0)))
        while leaves.count < settings.maxLeaves {
            guard let index = leaves.indices.filter({ leaves[$0].best.feature >= 0 })
                .max(by: { leaves[$0].best.gain < leaves[$1].best.gain }) else { break }
            let leaf = leaves[index]
            let split = leaf.best
            let leftCount = rows.withUnsafeMutableBufferPointer { rows in
                columnBins.withUnsafeBufferPointer { columns in
                    partition(rows.baseAddress!, leaf.begin..<leaf.end, split, scratch: scratch, columns: columns.baseAddress!, stride: n)
                }
            }
            var validLeft = leaf.validation, validRight = leaf.validation
            if let validation {
                let count = partition(validation.rows, leaf.validation, split, scratch: validation.scratch,
                                      columns: validation.columns, stride: validation.count)
                validLeft = leaf.validation.lowerBound..<(leaf.validation.lowerBound + count)
                validRight = validLeft.upperBound..<leaf.validation.upperBound
            }
            let rightCount = leaf.end - leaf.begin - leftCount
            let leftNode = tree.addNode(cover: Double(leftCount)); binThreshold.append(-1)
            let rightNode = tree.addNode(cover: Double(rightCount)); binThreshold.append(-1)
            tree.feature[leaf.node] = split.feature
            tree.threshold[leaf.node] = bins.bounds[split.feature][split.bin]
            tree.defaultLeft[leaf.node] = split.defaultLeft
            tree.left[leaf.node] = leftNode
            tree.right[leaf.node] = rightNode
            binThreshold[leaf.node] = split.bin
            // The smaller child's histogram is built; the larger one's is the parent's minus it.
            let small = histogram()
            let leftSmaller = leftCount <= rightCount
            let smallRange = leftSmaller ? leaf.begin..<(leaf.begin + leftCount) : (leaf.begin + leftCount)..<leaf.end
            rows.withUnsafeBufferPointer { build(small, rows: $0, smallRange) }
            let large = leaf.histogram
            large.subtract(small)
            let (leftHistogram, rightHistogram) = leftSmaller ? (small, large) : (large, small)
            let depth = leaf.depth + 1
            let lg = split.leftG, lh = split.leftH
            let rg = leaf.g - lg, rh = leaf.h - lh
            let left = Leaf(node: leftNode, begin: leaf.begin, end: leaf.begin + leftCount, depth: depth, g: lg, h: lh,
                            histogram: leftHistogram,
                            best: bestSplit(leftHistogram, g: lg, h: lh, n: Double(leftCount), depth: depth),
                            validation: validLeft)
            let right = Leaf(node: rightNode, begin: leaf.begin + leftCount, end: leaf.end, depth: depth, g: rg, h: rh,
                             histogram: rightHistogram,
                             best: bestSplit(rightHistogram, g: rg, h: rh, n: Double(rightCount), depth: depth),
                             validation: validRight)
            leaves[index] = left
            leaves.append(right)
        }
        for leaf in leaves {
            tree.value[leaf.node] = -settings.learningRate * leaf.g / (leaf.h + settings.l2)
        }
        return (tree, binThreshold, leaves.map { ($0.node, $0.begin..<$0.end, $0.validation) })
    }

    /// The threads for a pass over `rows` rows of a leaf: all of them from 8,192 rows on the pair
    /// (a hand-off of ~1 µs), from `throughGCDFrom` through GCD (whose wake-ups cost more than
    /// the work below tens of thousands of rows on this kind of machine), else one.
    func threads(for rows: Int, throughGCDFrom minimum: Int) -> Int {
        rows >= (pair != nil ? 8192 : minimum) ? max(1, settings.threads) : 1
    }

    /// Reorders `rows[range]` so that the rows going left come first, each side in its former
    /// order, and returns how many go left. Large leaves are split across the threads (each share
    /// partitioned in place and into `scratch` at the same offsets, then joined): the reads of
    /// each row's bin are cache misses, and one thread doing them was ~30 % of a tree at 1M homes.
    func partition(_ rows: UnsafeMutablePointer<Int32>, _ range: Range<Int>, _ split: Split,
                   scratch: UnsafeMutablePointer<Int32>, columns: UnsafePointer<UInt8>, stride: Int) -> Int {
        let threads = self.threads(for: range.count, throughGCDFrom: 50_000)
        let chunk = (range.count + threads - 1) / threads
        let feature = split.feature, threshold = split.bin, defaultLeft = split.defaultLeft ? 1 : 0
        var lefts = [Int](repeating: 0, count: threads), rights = [Int](repeating: 0, count: threads)
        let bins = columns + feature * stride
        lefts.withUnsafeMutableBufferPointer { leftCounts in
            rights.withUnsafeMutableBufferPointer { rightCounts in
                parallelParts(threads, pair: pair) { part in
                    let begin = range.lowerBound + part * chunk, end = min(range.upperBound, begin + chunk)
                    var left = 0, right = 0
                    if begin < end {
                        for k in begin..<end {
                            let r = rows[k]
                            let b = Int(bins[Int(r)])
                            // Missing (255) is above every threshold; no branch on the data
                            // (the branch on the side was mispredicted about every other row:
                            // partitions took ~1.5x as long).
                            let goesLeft = (b <= threshold ? 1 : 0) | ((b == Int(GradientBoosting.missingBin) ? 1 : 0) & defaultLeft)
                            rows[begin &+ left] = r
                            scratch[begin &+ right] = r
                            left &+= goesLeft
                            right &+= 1 &- goesLeft
                        }
                    }
                    leftCounts[part] = left
                    rightCounts[part] = right
                }
            }
        }
        // Join: every share's left rows, then every share's right rows.
        var target = range.lowerBound
        for part in 0..<threads {
            let begin = range.lowerBound + part * chunk
            if target != begin { memmove(rows + target, rows + begin, lefts[part] * MemoryLayout<Int32>.stride) }
            target += lefts[part]
        }
        let leftCount = target - range.lowerBound
        for part in 0..<threads {
            let begin = range.lowerBound + part * chunk
            (rows + target).update(from: scratch + begin, count: rights[part])
            target += rights[part]
        }
        return leftCount
    }

    /// Sums gradient, hessian and count per feature and bin over `rows[range]` into `histogram`,
    /// split across the threads for large leaves. Counts are exact (LightGBM estimates them from
    /// the hessians; with estimates our trees left LightGBM's after 5 trees instead of after 5
    /// near-ties, and the fixture's test AUC moved 0.003 away).
    func build(_ histogram: Histogram, rows: UnsafeBufferPointer<Int32>, _ range: Range<Int>) {
        let slots = GradientBoosting.slots
        let threads = self.threads(for: range.count, throughGCDFrom: 20_000)
        let extra = (1..<threads).map { _ in Histogram.allocate(slots: histogram.slotCount) }
        defer { for h in extra { h.deallocate() } }
        let w = width, words = binWords, stride = recordStride, ahead = 16
        let records = UnsafeRawPointer(self.records)
        let chunk = (range.count + threads - 1) / threads
        parallelParts(threads, pair: pair) { part in
            let target = part == 0 ? histogram : extra[part - 1]
            target.zero()
            let begin = range.lowerBound + part * chunk, end = min(range.upperBound, begin + chunk)
            guard begin < end else { return }
            // Rows in batches: first each row's record (gradient pair and bins) copied out in
            // sequence (independent loads, so many cache misses are in flight at once), then the
            // slots added from the copies. Adding straight from the scattered rows left the CPU
            // waiting on one row's miss at a time: 30 % of the histogram time at 1M homes. The
            // copy still waited on the misses (30 % of a build's samples) until the records 16
            // rows ahead were prefetched (builds −15 %).
            let batch = 512
            let pairs = UnsafeMutablePointer<SIMD2<Double>>.allocate(capacity: batch)
            let rowWords = UnsafeMutablePointer<UInt64>.allocate(capacity: batch * words)
            defer { pairs.deallocate(); rowWords.deallocate() }
            let rowBins = UnsafeRawPointer(rowWords)
            let (sums, counts) = (target.pairs, target.counts)
            var start = begin
            while start < end {
                let count = min(batch, end - start)
                for j in 0..<count {
                    if start &+ j &+ ahead < end {
                        let next = records + Int(rows[start &+ j &+ ahead]) &* stride
                        listwise_prefetch(next); listwise_prefetch(next + stride - 1)
                    }
                    let record = records + Int(rows[start + j]) &* stride
                    pairs[j] = record.loadUnaligned(as: SIMD2<Double>.self)
                    for k in 0..<words { rowWords[j &* words &+ k] = record.loadUnaligned(fromByteOffset: 16 &+ 8 &* k, as: UInt64.self) }
                }
                for j in 0..<count {
                    let v = pairs[j]
                    let row = rowBins + j &* words &* 8
                    for f in 0..<w {
                        let slot = f &* slots &+ Int(row.load(fromByteOffset: f, as: UInt8.self))
                        sums[slot] += v
                        counts[slot] &+= 1
                    }
                }
                start += count
            }
        }
        for part in extra { histogram.add(part) }
    }

    /// The best split of a leaf over every feature and bin threshold, trying missing values on
    /// either side; `feature == -1` when none meets the minimums or gains. Ties are broken as
    /// LightGBM breaks them (so that the trees can be compared): among features, the first; within
    /// a feature, missing values left and the highest threshold first, then missing values right
    /// and the lowest threshold when strictly better.
    func bestSplit(_ histogram: Histogram, g: Double, h: Double, n: Double, depth: Int) -> Split {
        var best = Split()
        if settings.maxDepth > 0, depth >= settings.maxDepth { return best }
        let lambda = settings.l2
        let minRows = Double(settings.minRowsInLeaf), minHessian = settings.minHessianInLeaf
        guard n >= 2 * minRows, h >= 2 * minHessian else { return best }
        let parent = g * g / (h + lambda)
        let slots = GradientBoosting.slots
        var prefix = [(g: Double, h: Double, n: Double)](repeating: (0, 0, 0), count: slots)
        for f in 0..<width {
            let sums = histogram.pairs + f * slots, counts = histogram.counts + f * slots
            let valueBins = bins.bounds[f].count
            let missing = Int(GradientBoosting.missingBin)
            let mg = sums[missing].x, mh = sums[missing].y, mn = Double(counts[missing])
            guard valueBins > 1 || mn > 0 else { continue }
            var running = (g: 0.0, h: 0.0, n: 0.0)
            for t in 0..<valueBins {
                running = (running.g + sums[t].x, running.h + sums[t].y, running.n + Double(counts[t]))
                prefix[t] = running
            }
            var featureBest = Split()
            func consider(_ t: Int, missingLeft: Bool) {
                let left = prefix[t]
                let leftG = missingLeft ? left.g + mg : left.g, leftH = missingLeft ? left.h + mh : left.h
                let leftN = missingLeft ? left.n + mn : left.n
                let rightG = g - leftG, rightH = h - leftH, rightN = n - leftN
                guard leftN >= minRows, rightN >= minRows, leftH >= minHessian, rightH >= minHessian else { return }
                let gain = leftG * leftG / (leftH + lambda) + rightG * rightG / (rightH + lambda) - parent
                if gain > featureBest.gain + 1e-12 {
                    featureBest = Split(feature: f, bin: t, defaultLeft: missingLeft, gain: gain, leftG: leftG, leftH: leftH, leftN: leftN)
                }
            }
            // Missing values left (or none), thresholds from the top; then missing values right,
            // from the bottom, up to "every value left" (which separates the missing ones).
            for t in stride(from: valueBins - 2, through: 0, by: -1) { consider(t, missingLeft: true) }
            if mn > 0 { for t in 0..<valueBins { consider(t, missingLeft: false) } }
            if featureBest.feature >= 0, featureBest.gain > best.gain + 1e-12 { best = featureBest }
        }
        return best
    }
}

/// Calls `body` on `parts` consecutive shares of 0..<count, concurrently (small counts on this
/// thread). For work outside any GRDB access: GCD inside a write can serialize (README, traps).
func parallelRanges(_ count: Int, _ parts: Int, pair: ThreadPair? = nil, _ body: (Range<Int>) -> Void) {
    let parts = count >= 8192 ? max(1, parts) : 1
    let chunk = (count + parts - 1) / max(parts, 1)
    parallelParts(parts, pair: pair) { part in
        let begin = part * chunk, end = min(count, begin + chunk)
        if begin < end { body(begin..<end) }
    }
}

/// `body` of the two fixed halves 0..<n/2 and n/2..<n, on two threads when `parallel` and n is
/// large enough, else in turn: the caller adds the two results in order, so a sum is the same
/// number on one thread or two.
func inTwoHalves<Result>(_ n: Int, parallel: Bool = true, pair: ThreadPair? = nil, _ body: (Range<Int>) -> Result) -> (Result, Result) {
    var results: [Result?] = [nil, nil]
    results.withUnsafeMutableBufferPointer { results in
        let halves = [0..<(n / 2), (n / 2)..<n]
        if parallel, n >= 8192 {
            parallelParts(2, pair: pair) { results[$0] = body(halves[$0]) }
        } else {
            for half in 0..<2 { results[half] = body(halves[half]) }
        }
    }
    return (results[0]!, results[1]!)
}

/// Makes `produce(0)`, `produce(1)`, ... one at a time and in order, and hands each item to
/// `consume(i, item)` on the thread that made it, on `workers` threads: one makes its next item
/// while the others consume theirs, and at most `workers` items exist at once. The first error
/// of `produce` stops the making (items already made are consumed) and is rethrown.
func producedInOrder<Item>(_ count: Int, workers: Int, produce: (Int) throws -> Item, consume: (Int, Item) -> Void) throws {
    let lock = NSLock()
    var next = 0
    var failure: (any Error)?
    parallelParts(min(max(1, workers), count)) { _ in
        while true {
            lock.lock()
            guard failure == nil, next < count else { lock.unlock(); return }
            let index = next
            next += 1
            let item: Item
            do { item = try produce(index) } catch { failure = error; lock.unlock(); return }
            lock.unlock()
            consume(index, item)
        }
    }
    if let failure { throw failure }
}

/// Calls `body(0) ... body(parts − 1)` concurrently and returns when all are done: two parts on
/// `pair` when one is given, else through GCD. The callers hand each part its own share of
/// memory (raw pointers), which the compiler cannot check.
func parallelParts(_ parts: Int, pair: ThreadPair? = nil, _ body: (Int) -> Void) {
    if parts <= 1 { body(0); return }
    if parts == 2, let pair { pair.run(body); return }
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: parts) { shared.value($0) }
    }
}

private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
