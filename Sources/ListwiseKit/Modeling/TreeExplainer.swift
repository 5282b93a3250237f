// TreeSHAP contributions for scoring: per-leaf tables made once per model, batches of homes, and
// a cache of the contributions of decision patterns already seen.
import Foundation
import Synchronization

/// The same contributions as `TreeSHAP`, computed leaf by leaf from tables made once per model
/// (after Yang 2021, "Fast TreeSHAP", v2), for scoring: the recursive algorithm took 70 µs a home
/// for 27 trees (7.3 s for 100k homes against 0.8 s for the logistic model's whole run).
///
/// Path-dependent TreeSHAP is the sum over leaves of the Shapley values of each leaf's game
/// g(S) = v · Π_{j ∈ U} (j ∈ S ? o_j : z_j), U the distinct features on the leaf's path, o_j = 1
/// when the home follows every split on j along it, z_j the share of training rows that did.
/// With d = |U| and O the features the home follows, feature k's value is
/// v · (o_k / z_k − 1) · G(O ∖ {k}), G(A) = Σ_{S ⊆ A} |S|!(d − |S| − 1)!/d! · Π_{j ∈ U ∖ S} z_j,
/// so a leaf keeps G for its 2^d subsets and a home costs O(d) a leaf, not O(depth²).
/// Trees with a path of more than `maxDistinct` distinct features (tables of 2^d) or a branch
/// no training row took use the recursive algorithm.
struct TreeExplainer: @unchecked Sendable {
    static let maxDistinct = 12

    private struct Leaf {
        var value: Double
        var stepStart: Int32, stepCount: Int32
        var slotStart: Int32, slotCount: Int32
        var tableStart: Int
    }

    let ensemble: BoostedTrees
    let expected: Double
    private let maxDepth: Int
    /// Trees that take the recursion instead of tables.
    private var recursive: [Int] = []
    /// The internal nodes of the tabled trees, numbered across trees (one decision each per home).
    private var nodeFeature: [Int32] = []
    private var nodeThreshold: [Double] = []
    private var nodeDefaultLeft: [Bool] = []
    private var leaves: [Leaf] = []
    // Path steps: the (global) internal node, whether the path goes left there, the slot of its feature.
    private var stepNode: [Int32] = []
    private var stepLeft: [Bool] = []
    private var stepSlot: [UInt8] = []
    // Slots: the feature and 1/z of each distinct feature of a leaf's path.
    private var slotFeature: [Int32] = []
    private var slotInverseZero: [Double] = []
    private var table: [Double] = []
    /// Each tabled tree's internal nodes and leaves (ranges of the arrays above) and the distinct
    /// features it splits on; `slotLocal` maps a leaf's slot to its index in that list.
    private struct TabledTree {
        var nodes: Range<Int>
        var leaves: Range<Int>
        var features: [Int32]
    }
    private var tabled: [TabledTree] = []
    private var slotLocal: [UInt8] = []
    /// Trees whose contributions come from the tables (the others use the recursion).
    var tabledTrees: Int { ensemble.trees.count - recursive.count }
    /// Contributions of decision patterns already seen, shared by the threads of a run.
    private(set) var cache = ContributionCache(trees: [])

    /// `maxDistinct`: the most distinct features on a path for tables (tests lower it).
    init(_ ensemble: BoostedTrees, maxDistinct: Int = TreeExplainer.maxDistinct) {
        let maxDistinct = min(maxDistinct, Self.maxDistinct)
        self.ensemble = ensemble
        expected = TreeSHAP.expectedValue(ensemble)
        maxDepth = ensemble.trees.map(\.depth).max() ?? 0
        // Shapley weights w[d][s] = s!(d − s − 1)!/d! = 1 / (d · C(d − 1, s)).
        var weights: [[Double]] = [[]]
        for d in 1...Self.maxDistinct {
            weights.append((0..<d).map { s in
                var binomial = 1.0
                for i in 0..<s { binomial = binomial * Double(d - 1 - i) / Double(i + 1) }
                return 1 / (Double(d) * binomial)
            })
        }
        for (index, tree) in ensemble.trees.enumerated() where tree.nodeCount > 1 {
            // Global numbers of this tree's internal nodes.
            var global = [Int](repeating: -1, count: tree.nodeCount)
            var usable = true
            for node in 0..<tree.nodeCount where tree.feature[node] >= 0 {
                global[node] = nodeFeature.count + global.filter { $0 >= 0 }.count
                if tree.cover[tree.left[node]] <= 0 || tree.cover[tree.right[node]] <= 0 { usable = false }
            }
            var newLeaves: [Leaf] = []
            var newSteps: [(node: Int32, left: Bool, slot: UInt8)] = []
            var newSlots: [(feature: Int32, inverseZero: Double)] = []
            var newTable: [Double] = []
            var path: [(node: Int, left: Bool)] = []
            func visit(_ node: Int) {
                guard usable else { return }
                if tree.feature[node] < 0 { addLeaf(node); return }
                path.append((node, true)); visit(tree.left[node]); path.removeLast()
                path.append((node, false)); visit(tree.right[node]); path.removeLast()
            }
            func addLeaf(_ leaf: Int) {
                var features: [Int] = [], zero: [Double] = []
                let stepStart = stepNode.count + newSteps.count
                for step in path {
                    let f = tree.feature[step.node]
                    let child = step.left ? tree.left[step.node] : tree.right[step.node]
                    var slot = features.firstIndex(of: f) ?? -1
                    if slot < 0 { slot = features.count; features.append(f); zero.append(1) }
                    zero[slot] *= tree.cover[child] / tree.cover[step.node]
                    newSteps.append((Int32(global[step.node]), step.left, UInt8(truncatingIfNeeded: slot)))
                }
                let d = features.count
                guard d <= maxDistinct else { usable = false; return }
                let slotStart = slotFeature.count + newSlots.count
                newSlots += zip(features, zero).map { (Int32($0), 1 / $1) }
                // h(S) = w(|S|) Π_{j ∉ S} z_j, then G(A) = Σ_{S ⊆ A} h(S) (subset sums, slot by slot).
                // S = U never enters (k is left out of every S) and has no weight.
                var g = [Double](repeating: 0, count: 1 << d)
                for s in 0..<((1 << d) - 1) {
                    var product = weights[d][s.nonzeroBitCount]
                    for j in 0..<d where s & (1 << j) == 0 { product *= zero[j] }
                    g[s] = product
                }
                for j in 0..<d { for s in 0..<(1 << d) where s & (1 << j) != 0 { g[s] += g[s ^ (1 << j)] } }
                newLeaves.append(Leaf(value: tree.value[leaf], stepStart: Int32(stepStart), stepCount: Int32(path.count),
                                      slotStart: Int32(slotStart), slotCount: Int32(d), tableStart: table.count + newTable.count))
                newTable += g
            }
            visit(0)
            guard usable else { recursive.append(index); continue }
            var treeFeatures: [Int32] = []
            for slot in newSlots where !treeFeatures.contains(slot.feature) { treeFeatures.append(slot.feature) }
            slotLocal += newSlots.map { slot in UInt8(treeFeatures.firstIndex(of: slot.feature)!) }
            tabled.append(TabledTree(nodes: nodeFeature.count..<(nodeFeature.count + tree.feature.filter { $0 >= 0 }.count),
                                     leaves: leaves.count..<(leaves.count + newLeaves.count), features: treeFeatures))
            for node in 0..<tree.nodeCount where tree.feature[node] >= 0 {
                nodeFeature.append(Int32(tree.feature[node]))
                nodeThreshold.append(tree.threshold[node])
                nodeDefaultLeft.append(tree.defaultLeft[node])
            }
            leaves += newLeaves
            stepNode += newSteps.map(\.node); stepLeft += newSteps.map(\.left); stepSlot += newSteps.map(\.slot)
            slotFeature += newSlots.map(\.feature); slotInverseZero += newSlots.map(\.inverseZero)
            table += newTable
        }
        cache = ContributionCache(trees: tabled.map { ($0.features.count, $0.nodes.count) })
    }

    /// Rows explained together by `add`: a leaf's table stays in cache while they pass (one row at
    /// a time, the tables' cache misses were 70 % of a tree model's score run).
    static let batchRows = 256

    /// Scratch memory for `add` (one per thread).
    final class Scratch {
        let decisions: UnsafeMutablePointer<Bool>
        let followed: UnsafeMutablePointer<Int>
        let row: UnsafeMutablePointer<Double>
        let path: UnsafeMutablePointer<TreeSHAP.PathElement>
        /// A batch's patterns, its rows not in the cache, and their contributions in one tree.
        let keys: UnsafeMutablePointer<UInt64>
        let misses: UnsafeMutablePointer<Int32>
        let local: UnsafeMutablePointer<Double>
        let found: UnsafeMutablePointer<Int32>
        /// The sum of the values `addBatch` touches ahead of its adds (kept, so they are read).
        var touched = 0.0
        init(_ explainer: TreeExplainer) {
            let rows = TreeExplainer.batchRows
            decisions = .allocate(capacity: max(1, explainer.tabled.map(\.nodes.count).max() ?? 1) * rows)
            followed = .allocate(capacity: rows)
            row = .allocate(capacity: max(1, explainer.ensemble.features.count))
            path = .allocate(capacity: TreeSHAP.pathCapacity(depth: explainer.maxDepth))
            keys = .allocate(capacity: rows)
            misses = .allocate(capacity: rows)
            found = .allocate(capacity: rows)
            local = .allocate(capacity: max(1, explainer.tabled.map(\.features.count).max() ?? 1) * rows)
        }
        deinit {
            decisions.deallocate(); followed.deallocate(); row.deallocate(); path.deallocate()
            keys.deallocate(); misses.deallocate(); local.deallocate(); found.deallocate()
        }
    }

    /// Adds every tree's contributions for one row `x` (x[f] = the value of `ensemble.features[f]`) to `phi`.
    func add(_ x: UnsafePointer<Double>, into phi: UnsafeMutablePointer<Double>, scratch: Scratch) {
        let width = ensemble.features.count
        let columns = (0..<width).map { x + $0 }
        add(rows: 0..<1, columns: columns, into: phi, scratch: scratch)
    }

    /// The same for rows `rows` of feature columns (`columns[f][r]`), their contributions added to
    /// `phi` row-major (`phi[(r − rows.lowerBound) · width + f]`, width = the ensemble's feature
    /// count), in batches of `batchRows`, tree by tree: each row's pattern looked up in `cache`,
    /// and the rows not found computed leaf by leaf (and kept). The numbers do not depend on what
    /// the cache holds.
    func add(rows: Range<Int>, columns: [UnsafePointer<Double>], into phi: UnsafeMutablePointer<Double>, scratch: Scratch) {
        let width = ensemble.features.count
        var start = rows.lowerBound
        while start < rows.upperBound {
            let count = min(Self.batchRows, rows.upperBound - start)
            addBatch(start, count, columns, phi + (start - rows.lowerBound) * width, width, scratch)
            start += count
        }
    }

    private func addBatch(_ first: Int, _ rows: Int, _ columns: [UnsafePointer<Double>], _ phi: UnsafeMutablePointer<Double>,
                          _ width: Int, _ scratch: Scratch) {
        let decisions = scratch.decisions, followed = scratch.followed
        let keys = scratch.keys, misses = scratch.misses, local = scratch.local
        nodeFeature.withUnsafeBufferPointer { feature in
        nodeThreshold.withUnsafeBufferPointer { threshold in
        nodeDefaultLeft.withUnsafeBufferPointer { defaultLeft in
        leaves.withUnsafeBufferPointer { leaves in
        stepNode.withUnsafeBufferPointer { stepNode in
        stepLeft.withUnsafeBufferPointer { stepLeft in
        stepSlot.withUnsafeBufferPointer { stepSlot in
        slotLocal.withUnsafeBufferPointer { slotLocal in
        slotInverseZero.withUnsafeBufferPointer { inverseZero in
        table.withUnsafeBufferPointer { table in
        cache.withShard { shard in
            for (t, tree) in tabled.enumerated() {
                let treeWidth = tree.features.count
                let cached = shard.capacity[t] > 0
                var missCount = 0
                if cached {
                    // Each row's pattern, which way it goes at each of the tree's splits, straight
                    // from the values (the decisions are kept only for the rows not in the cache:
                    // writing every node's decisions for the batch, then reading them back for the
                    // keys, was most of the explainer's work beside its cache misses).
                    keys.update(repeating: 0, count: rows)
                    for (bit, node) in tree.nodes.enumerated() {
                        let column = columns[Int(feature[node])] + first
                        let t = threshold[node], missingLeft: UInt64 = defaultLeft[node] ? 1 : 0
                        for r in 0..<rows {
                            let value = column[r]
                            let left = (value <= t ? 1 : 0) | (value.isNaN ? missingLeft : 0)
                            keys[r] |= left &<< UInt64(bit)
                        }
                    }
                    // Lookups first, then the adds: each row's values are a random line of the
                    // cache (mostly beyond L2), and loads that do not wait on a probe overlap
                    // (the adds were a third of the scoring thread's time when interleaved).
                    let found = scratch.found
                    for r in 0..<rows { found[r] = shard.find(t, keys[r]) }
                    let values = shard.values + shard.start[t]
                    // Each found row's first and last value touched before the adds: here the
                    // loads do not wait on one another (many rows' lines in flight), where the
                    // adds' longer loop kept only a few.
                    var touched = 0.0
                    for r in 0..<rows {
                        let row = values + Int(max(found[r], 0)) * treeWidth
                        touched += row[0] + row[treeWidth - 1]
                    }
                    scratch.touched = touched
                    tree.features.withUnsafeBufferPointer { features in
                        for r in 0..<rows {
                            let entry = found[r]
                            if entry >= 0 {
                                let row = values + Int(entry) * treeWidth, target = phi + r * width
                                for k in 0..<treeWidth { target[Int(features[k])] += row[k] }
                            } else {
                                misses[missCount] = Int32(r)
                                missCount += 1
                            }
                        }
                    }
                } else {
                    for r in 0..<rows { misses[r] = Int32(r) }
                    missCount = rows
                }
                guard missCount > 0 else { continue }
                // The decisions of the rows not in the cache (j-th such row at `(node − first node) · missCount + j`).
                let firstNode = tree.nodes.lowerBound
                for node in tree.nodes {
                    let column = columns[Int(feature[node])] + first
                    let t = threshold[node], missingLeft = defaultLeft[node]
                    let target = decisions + (node - firstNode) * missCount
                    for j in 0..<missCount {
                        let value = column[Int(misses[j])]
                        target[j] = value.isNaN ? missingLeft : value <= t
                    }
                }
                // Their contributions, leaf by leaf into `local` (tree feature-major, `k · missCount + j`).
                local.update(repeating: 0, count: treeWidth * missCount)
                for leaf in leaves[tree.leaves] {
                    let d = Int(leaf.slotCount)
                    followed.update(repeating: (1 << d) - 1, count: missCount)
                    let firstStep = Int(leaf.stepStart)
                    for s in firstStep..<(firstStep + Int(leaf.stepCount)) {
                        let node = decisions + (Int(stepNode[s]) - firstNode) * missCount
                        let left = stepLeft[s]
                        let clear = ~(1 << Int(stepSlot[s]))
                        for j in 0..<missCount { followed[j] &= node[j] == left ? -1 : clear }
                    }
                    let slots = Int(leaf.slotStart)
                    let g = table.baseAddress! + leaf.tableStart
                    for k in 0..<d {
                        let bit = 1 << k
                        let target = local + Int(slotLocal[slots + k]) * missCount
                        let onPath = leaf.value * (inverseZero[slots + k] - 1), offPath = -leaf.value
                        for j in 0..<missCount {
                            let o = followed[j]
                            target[j] += (o & bit != 0 ? onPath : offPath) * g[o & ~bit]
                        }
                    }
                }
                for j in 0..<missCount {
                    let r = Int(misses[j])
                    for k in 0..<treeWidth { phi[r * width + Int(tree.features[k])] += local[k * missCount + j] }
                    if cached, let entry = shard.insert(t, keys[r]) {
                        let values = shard.values + shard.start[t] + Int(entry) * treeWidth
                        for k in 0..<treeWidth { values[k] = local[k * missCount + j] }
                    }
                }
            }
        }}}}}}}}}}}
        for index in recursive {
            for r in 0..<rows {
                for f in 0..<width { scratch.row[f] = columns[f][first + r] }
                let row = scratch.row
                TreeSHAP.add(ensemble.trees[index], { row[$0] }, into: phi + r * width, path: scratch.path)
            }
        }
    }
}

/// Each tabled tree's contributions for the patterns already met. In a tree a home's TreeSHAP
/// values depend only on its pattern, the way it goes at each of the tree's splits (one bit a
/// split), and homes share patterns: a 1M-home county shows 2k to 18k a tree (7.7k on average
/// over 35 trees), so ~99 % of a run's (home, tree) pairs are a lookup. Kept in shards, each
/// behind its own lock: a batch borrows a free shard for its lookups and inserts, so the
/// reader threads do not wait on each other. A shard holds at most `budgetBytes` of
/// contributions; past a tree's share, its new patterns are computed and not kept.
final class ContributionCache: Sendable {
    final class Shard {
        /// Entry e of tree t: `values[start[t] + e · d_t ..< + d_t]`, d_t its feature count. One
        /// allocation of the whole budget, written as entries come (untouched pages take no memory).
        let values: UnsafeMutablePointer<Double>
        let start: [Int]
        let capacity: [Int]
        /// Entries kept per tree.
        private(set) var counts: [Int]
        /// Each tree's patterns: an open-addressing table of 2^bits[t] slots from slotStart[t]
        /// (at most half full), a slot holding a pattern and its entry + 1 (0: empty) side by
        /// side (one cache line a probe), probed linearly from the pattern's Fibonacci hash.
        /// Hand-written: Swift's Dictionary (SipHash, a retain per lookup) was 6 % of a gbm score
        /// run's samples.
        private struct Slot { var key: UInt64; var entry: Int64 }
        private let slots: UnsafeMutablePointer<Slot>
        private let slotStart: [Int]
        private let bits: [Int]

        init(capacity: [Int], features: [Int]) {
            self.capacity = capacity
            counts = capacity.map { _ in 0 }
            start = zip(capacity, features).reduce(into: [0]) { $0.append($0.last! + $1.0 * $1.1) }.dropLast()
            values = .allocate(capacity: max(1, zip(capacity, features).reduce(0) { $0 + $1.0 * $1.1 }))
            bits = capacity.map { $0 == 0 ? 0 : max(4, Int.bitWidth - (2 * $0 - 1).leadingZeroBitCount) }
            slotStart = bits.reduce(into: [0]) { $0.append($0.last! + ($1 == 0 ? 0 : 1 << $1)) }.dropLast()
            let count = max(1, zip(slotStart, bits).map { $0 + ($1 == 0 ? 0 : 1 << $1) }.max() ?? 1)
            slots = .allocate(capacity: count)
            slots.initialize(repeating: Slot(key: 0, entry: 0), count: count)
        }
        deinit { values.deallocate(); slots.deallocate() }

        @inline(__always)
        private func home(_ t: Int, _ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) &>> UInt64(64 - bits[t])) }

        /// The entry of `key` in tree `t`, or -1.
        @inline(__always)
        func find(_ t: Int, _ key: UInt64) -> Int32 {
            let base = slotStart[t], mask = (1 << bits[t]) - 1
            var slot = home(t, key)
            while true {
                let found = slots[base + slot]
                if found.entry == 0 { return -1 }
                if found.key == key { return Int32(truncatingIfNeeded: found.entry - 1) }
                slot = (slot + 1) & mask
            }
        }

        /// A new entry for `key` in tree `t` (nil when the tree's share is full or `key` is kept).
        func insert(_ t: Int, _ key: UInt64) -> Int32? {
            guard counts[t] < capacity[t] else { return nil }
            let base = slotStart[t], mask = (1 << bits[t]) - 1
            var slot = home(t, key)
            while slots[base + slot].entry != 0 {
                if slots[base + slot].key == key { return nil }
                slot = (slot + 1) & mask
            }
            let entry = Int32(counts[t])
            slots[base + slot] = Slot(key: key, entry: Int64(entry) + 1)
            counts[t] += 1
            return entry
        }
    }

    private final class Locked: Sendable {
        let shard: Mutex<Shard>
        init(_ shard: sending Shard) { self.shard = Mutex(shard) }
    }

    static let budgetBytes = 8 << 20
    private let shards: [Locked]

    /// `trees`: each tabled tree's distinct feature count and internal node count (patterns of
    /// more than 64 splits are not kept).
    init(trees: [(features: Int, nodes: Int)], shards: Int = 2) {
        let doubles = Self.budgetBytes / 8
        let perEntry = max(1, trees.reduce(0) { $0 + $1.features })
        let capacity = trees.map { $0.nodes <= 64 ? doubles / perEntry : 0 }
        self.shards = (0..<max(1, shards)).map { _ in Locked(Shard(capacity: capacity, features: trees.map(\.features))) }
    }

    /// Patterns kept, over every shard and tree.
    var patterns: Int { shards.reduce(0) { total, locked in total + locked.shard.withLock { $0.counts.reduce(0, +) } } }

    /// Runs `body` with a shard no other thread holds (or waits for the first one).
    func withShard(_ body: (Shard) -> Void) {
        for locked in shards {
            if locked.shard.withLockIfAvailable({ body($0) }) != nil { return }
        }
        shards[0].shard.withLock { body($0) }
    }
}
