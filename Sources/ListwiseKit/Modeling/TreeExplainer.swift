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
                let cached = shard.keeps(t)
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
                    let values = shard.values(t)
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
                        let values = shard.values(t) + Int(entry) * treeWidth
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
/// behind its own lock: a batch borrows a free shard for its lookups and inserts, so threads do
/// not wait on each other. Each tree's table grows as its patterns come, until the shard holds
/// `budgetBytes`; past that, new patterns are computed and not kept. (With an even share of a
/// budget a tree, the trees of many patterns kept only a part of theirs: 1.0M of a 1M-home run's
/// 35M pairs were computed, a fifth of the explainer's time.)
final class ContributionCache: Sendable {
    final class Shard {
        /// A pattern and its entry + 1 (0: empty) side by side: one cache line a probe.
        private struct Slot { var key: UInt64; var entry: Int64 }
        /// One tree's patterns: an open-addressing table of 2^bits slots (at most half full),
        /// probed linearly from the pattern's Fibonacci hash, and entry e's contributions at
        /// `values[e · width ..< (e + 1) · width]`. Hand-written: Swift's Dictionary (SipHash, a
        /// retain per lookup) was 6 % of a gbm score run's samples.
        private struct Table {
            var slots: UnsafeMutablePointer<Slot>
            var bits: Int
            var values: UnsafeMutablePointer<Double>
            var capacity: Int
            var count = 0
            let width: Int
            let kept: Bool
        }
        private let tables: UnsafeMutablePointer<Table>
        private let trees: Int
        private let budget: Int
        /// Bytes the tables take.
        private var bytes = 0

        init(features: [Int], kept: [Bool], budget: Int) {
            trees = features.count
            self.budget = budget
            tables = .allocate(capacity: max(1, trees))
            for t in 0..<trees {
                let bits = kept[t] ? 6 : 0, capacity = kept[t] ? 16 : 0
                let slots = UnsafeMutablePointer<Slot>.allocate(capacity: 1 << bits)
                slots.initialize(repeating: Slot(key: 0, entry: 0), count: 1 << bits)
                (tables + t).initialize(to: Table(slots: slots, bits: bits, values: .allocate(capacity: max(1, capacity * features[t])),
                                                  capacity: capacity, width: features[t], kept: kept[t]))
                bytes += (1 << bits) * MemoryLayout<Slot>.stride + capacity * features[t] * 8
            }
        }
        deinit {
            for t in 0..<trees { tables[t].slots.deallocate(); tables[t].values.deallocate() }
            tables.deallocate()
        }

        /// Whether tree t's patterns are kept (not for patterns of more than 64 splits).
        func keeps(_ t: Int) -> Bool { tables[t].kept }
        /// Entries kept, over the trees.
        var patterns: Int { (0..<trees).reduce(0) { $0 + tables[$1].count } }
        /// Tree t's entry 0; entry e at `+ e · width` (moves when the tree's table grows).
        func values(_ t: Int) -> UnsafeMutablePointer<Double> { tables[t].values }

        @inline(__always)
        private static func home(_ key: UInt64, _ bits: Int) -> Int {
            Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) &>> UInt64(64 - bits))
        }

        /// The entry of `key` in tree `t`, or -1.
        @inline(__always)
        func find(_ t: Int, _ key: UInt64) -> Int32 {
            let table = tables + t
            let slots = table.pointee.slots, bits = table.pointee.bits
            guard bits > 0 else { return -1 }
            let mask = (1 << bits) - 1
            var slot = Self.home(key, bits)
            while true {
                let found = slots[slot]
                if found.entry == 0 { return -1 }
                if found.key == key { return Int32(truncatingIfNeeded: found.entry - 1) }
                slot = (slot + 1) & mask
            }
        }

        /// A new entry for `key` in tree `t` (nil when the tree's patterns are not kept, the
        /// budget is spent, or `key` is kept); its values are to be written at
        /// `values(t) + entry · width` after the call.
        func insert(_ t: Int, _ key: UInt64) -> Int32? {
            let table = tables + t
            guard table.pointee.kept else { return nil }
            if table.pointee.count == table.pointee.capacity {
                let width = table.pointee.width, capacity = table.pointee.capacity
                let more = capacity * width * 8 + (2 * (capacity * 2) > 1 << table.pointee.bits ? (1 << table.pointee.bits) * 16 : 0)
                guard bytes + more <= budget else { return nil }
                let values = UnsafeMutablePointer<Double>.allocate(capacity: 2 * capacity * width)
                values.update(from: table.pointee.values, count: capacity * width)
                table.pointee.values.deallocate()
                table.pointee.values = values
                table.pointee.capacity = 2 * capacity
                bytes += capacity * width * 8
                if 2 * table.pointee.capacity > 1 << table.pointee.bits { grow(table) }
            }
            let slots = table.pointee.slots, bits = table.pointee.bits, mask = (1 << bits) - 1
            var slot = Self.home(key, bits)
            while slots[slot].entry != 0 {
                if slots[slot].key == key { return nil }
                slot = (slot + 1) & mask
            }
            let entry = table.pointee.count
            slots[slot] = Slot(key: key, entry: Int64(entry) + 1)
            table.pointee.count += 1
            return Int32(entry)
        }

        /// Twice the slots, the patterns placed again (the entries do not move).
        private func grow(_ table: UnsafeMutablePointer<Table>) {
            let old = table.pointee.slots, oldCount = 1 << table.pointee.bits
            let bits = table.pointee.bits + 1, mask = (1 << bits) - 1
            let slots = UnsafeMutablePointer<Slot>.allocate(capacity: 1 << bits)
            slots.initialize(repeating: Slot(key: 0, entry: 0), count: 1 << bits)
            for i in 0..<oldCount where old[i].entry != 0 {
                var slot = Self.home(old[i].key, bits)
                while slots[slot].entry != 0 { slot = (slot + 1) & mask }
                slots[slot] = old[i]
            }
            old.deallocate()
            table.pointee.slots = slots
            table.pointee.bits = bits
            bytes += oldCount * MemoryLayout<Slot>.stride
        }
    }

    private final class Locked: Sendable {
        let shard: Mutex<Shard>
        init(_ shard: sending Shard) { self.shard = Mutex(shard) }
    }

    static let budgetBytes = 32 << 20
    private let shards: [Locked]

    /// `trees`: each tabled tree's distinct feature count and internal node count (patterns of
    /// more than 64 splits are not kept).
    init(trees: [(features: Int, nodes: Int)], shards: Int = 2, budgetBytes: Int = ContributionCache.budgetBytes) {
        self.shards = (0..<max(1, shards)).map { _ in
            Locked(Shard(features: trees.map(\.features), kept: trees.map { $0.nodes <= 64 }, budget: budgetBytes))
        }
    }

    /// Patterns kept, over every shard and tree.
    var patterns: Int { shards.reduce(0) { total, locked in total + locked.shard.withLock { $0.patterns } } }

    /// Runs `body` with a shard no other thread holds (or waits for the first one).
    func withShard(_ body: (Shard) -> Void) {
        for locked in shards {
            if locked.shard.withLockIfAvailable({ body($0) }) != nil { return }
        }
        shards[0].shard.withLock { body($0) }
    }
}
