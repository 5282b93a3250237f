// Per-home feature contributions of a tree ensemble by TreeSHAP (Lundberg, Erion and Lee 2018,
// "Consistent individualized feature attribution for tree ensembles", Algorithm 2: exact,
// path-dependent). For each tree, φᵢ is the Shapley value of feature i for the game
// v(S) = E[f(x) | x_S], the expectation over the branches of the features not in S weighted by
// the training rows that went each way (`cover`). The contributions and the expected value sum
// to the raw score: Σᵢ φᵢ + E[f] = f(x). This is the algorithm LightGBM's `pred_contrib` and
// shap's TreeExplainer run; the layout of the path follows shap's C++ code (one triangular
// buffer, a copy of the path per depth).
import Foundation

public enum TreeSHAP {
    /// E[f]: the tree's leaf values weighted by their training rows.
    public static func expectedValue(_ tree: RegressionTree) -> Double {
        guard tree.nodeCount > 0, tree.cover[0] > 0 else { return tree.value.first ?? 0 }
        var sum = 0.0
        for node in 0..<tree.nodeCount where tree.feature[node] < 0 { sum += tree.cover[node] * tree.value[node] }
        return sum / tree.cover[0]
    }

    /// Adds the tree's contributions for the row whose feature f is `x(f)` to `phi` (one slot per
    /// feature index the tree uses). `path` holds room for `pathCapacity(depth:)` elements.
    static func add(_ tree: RegressionTree, _ x: (Int) -> Double, into phi: UnsafeMutablePointer<Double>,
                    path: UnsafeMutablePointer<PathElement>) {
        guard tree.nodeCount > 1 else { return }
        recurse(tree, x, phi, node: 0, depth: 0, parent: path, zero: 1, one: 1, feature: -1)
    }

    /// Contributions of every feature to the ensemble's raw score for one row (`x(f)` = the row's
    /// value of `ensemble.features[f]`), and the expected value (base score + each tree's E[f]).
    public static func contributions(_ ensemble: BoostedTrees, _ x: (Int) -> Double) -> (phi: [Double], expected: Double) {
        var phi = [Double](repeating: 0, count: ensemble.features.count)
        let depth = ensemble.trees.map(\.depth).max() ?? 0
        let path = UnsafeMutablePointer<PathElement>.allocate(capacity: pathCapacity(depth: depth))
        defer { path.deallocate() }
        phi.withUnsafeMutableBufferPointer { phi in
            for tree in ensemble.trees { add(tree, x, into: phi.baseAddress!, path: path) }
        }
        return (phi, expectedValue(ensemble))
    }

    public static func expectedValue(_ ensemble: BoostedTrees) -> Double {
        ensemble.trees.reduce(ensemble.baseScore) { $0 + expectedValue($1) }
    }

    /// Path elements needed for trees of depth `depth` (a copy of the path at each level).
    static func pathCapacity(depth: Int) -> Int { (depth + 2) * (depth + 3) / 2 }

    struct PathElement {
        var feature: Int
        /// Share of the rows through this feature's splits when it is left out (cover ratio).
        var zero: Double
        /// 1 when the row follows this feature's splits, else 0.
        var one: Double
        var weight: Double
    }

    private static func recurse(_ tree: RegressionTree, _ x: (Int) -> Double, _ phi: UnsafeMutablePointer<Double>, node: Int,
                                depth uniqueDepth: Int, parent: UnsafeMutablePointer<PathElement>, zero: Double, one: Double,
                                feature: Int) {
        var uniqueDepth = uniqueDepth
        let path = parent + uniqueDepth + 1
        path.update(from: parent, count: uniqueDepth + 1)
        extend(path, uniqueDepth, zero: zero, one: one, feature: feature)
        let split = tree.feature[node]
        if split < 0 {
            let value = tree.value[node]
            if uniqueDepth > 0 {
                for i in 1...uniqueDepth {
                    let w = unwoundSum(path, uniqueDepth, i)
                    phi[path[i].feature] += w * (path[i].one - path[i].zero) * value
                }
            }
            return
        }
        let goesLeft = tree.goesLeft(node, x(split))
        let hot = goesLeft ? tree.left[node] : tree.right[node]
        let cold = goesLeft ? tree.right[node] : tree.left[node]
        let cover = tree.cover[node]
        let hotZero = cover > 0 ? tree.cover[hot] / cover : 0
        let coldZero = cover > 0 ? tree.cover[cold] / cover : 0
        var incomingZero = 1.0, incomingOne = 1.0
        // A feature split on before: undo its element, to redo it with this split's fractions.
        var index = 0
        while index <= uniqueDepth, path[index].feature != split { index += 1 }
        if index <= uniqueDepth {
            incomingZero = path[index].zero
            incomingOne = path[index].one
            unwind(path, uniqueDepth, index)
            uniqueDepth -= 1
        }
        recurse(tree, x, phi, node: hot, depth: uniqueDepth + 1, parent: path, zero: hotZero * incomingZero, one: incomingOne, feature: split)
        recurse(tree, x, phi, node: cold, depth: uniqueDepth + 1, parent: path, zero: coldZero * incomingZero, one: 0, feature: split)
    }

    @inline(__always)
    private static func extend(_ path: UnsafeMutablePointer<PathElement>, _ depth: Int, zero: Double, one: Double, feature: Int) {
        path[depth] = PathElement(feature: feature, zero: zero, one: one, weight: depth == 0 ? 1 : 0)
        let denominator = Double(depth + 1)
        var i = depth - 1
        while i >= 0 {
            path[i + 1].weight += one * path[i].weight * Double(i + 1) / denominator
            path[i].weight = zero * path[i].weight * Double(depth - i) / denominator
            i -= 1
        }
    }

    @inline(__always)
    private static func unwind(_ path: UnsafeMutablePointer<PathElement>, _ depth: Int, _ index: Int) {
        let one = path[index].one, zero = path[index].zero
        var next = path[depth].weight
        var i = depth - 1
        while i >= 0 {
            if one != 0 {
                let saved = path[i].weight
                path[i].weight = next * Double(depth + 1) / (Double(i + 1) * one)
                next = saved - path[i].weight * zero * Double(depth - i) / Double(depth + 1)
            } else {
                path[i].weight = path[i].weight * Double(depth + 1) / (zero * Double(depth - i))
            }
            i -= 1
        }
        for k in index..<depth {
            path[k].feature = path[k + 1].feature
            path[k].zero = path[k + 1].zero
            path[k].one = path[k + 1].one
        }
    }

    /// The total weight of the path with element `index` unwound, without changing the path.
    @inline(__always)
    private static func unwoundSum(_ path: UnsafeMutablePointer<PathElement>, _ depth: Int, _ index: Int) -> Double {
        let one = path[index].one, zero = path[index].zero
        var next = path[depth].weight
        var total = 0.0
        var i = depth - 1
        while i >= 0 {
            if one != 0 {
                let t = next * Double(depth + 1) / (Double(i + 1) * one)
                total += t
                next = path[i].weight - t * zero * (Double(depth - i) / Double(depth + 1))
            } else if zero != 0 {
                total += (path[i].weight / zero) / (Double(depth - i) / Double(depth + 1))
            }
            i -= 1
        }
        return total
    }
}

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
    /// Trees whose contributions come from the tables (the others use the recursion).
    var tabledTrees: Int { ensemble.trees.count - recursive.count }

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
    }

    /// Rows explained together by `add`: a leaf's table stays in cache while they pass (one row at
    /// a time, the tables' cache misses were 70 % of a tree model's score run).
    static let batchRows = 256

    /// Scratch memory for `add` (one per thread).
    final class Scratch {
        let decisions: UnsafeMutablePointer<Bool>
        let followed: UnsafeMutablePointer<Int>
        let contributions: UnsafeMutablePointer<Double>
        let row: UnsafeMutablePointer<Double>
        let path: UnsafeMutablePointer<TreeSHAP.PathElement>
        init(_ explainer: TreeExplainer) {
            decisions = .allocate(capacity: max(1, explainer.nodeFeature.count) * TreeExplainer.batchRows)
            followed = .allocate(capacity: TreeExplainer.batchRows)
            contributions = .allocate(capacity: max(1, explainer.ensemble.features.count) * TreeExplainer.batchRows)
            row = .allocate(capacity: max(1, explainer.ensemble.features.count))
            path = .allocate(capacity: TreeSHAP.pathCapacity(depth: explainer.maxDepth))
        }
        deinit { decisions.deallocate(); followed.deallocate(); contributions.deallocate(); row.deallocate(); path.deallocate() }
    }

    /// Adds every tree's contributions for one row `x` (x[f] = the value of `ensemble.features[f]`) to `phi`.
    func add(_ x: UnsafePointer<Double>, into phi: UnsafeMutablePointer<Double>, scratch: Scratch) {
        let width = ensemble.features.count
        let columns = (0..<width).map { x + $0 }
        add(rows: 0..<1, columns: columns, into: phi, scratch: scratch)
    }

    /// The same for rows `rows` of feature columns (`columns[f][r]`), their contributions added to
    /// `phi` row-major (`phi[(r − rows.lowerBound) · width + f]`, width = the ensemble's feature
    /// count), in batches of `batchRows`: decisions of every node for the batch, then each leaf
    /// over the batch's rows, contributions feature-major while they add up.
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
        let stride = Self.batchRows
        let sums = scratch.contributions
        sums.update(repeating: 0, count: width * stride)
        nodeFeature.withUnsafeBufferPointer { feature in
        nodeThreshold.withUnsafeBufferPointer { threshold in
        nodeDefaultLeft.withUnsafeBufferPointer { defaultLeft in
            for node in 0..<feature.count {
                let column = columns[Int(feature[node])] + first
                let t = threshold[node], missingLeft = defaultLeft[node]
                let target = decisions + node * stride
                for r in 0..<rows {
                    let value = column[r]
                    target[r] = value.isNaN ? missingLeft : value <= t
                }
            }
        }}}
        leaves.withUnsafeBufferPointer { leaves in
        stepNode.withUnsafeBufferPointer { stepNode in
        stepLeft.withUnsafeBufferPointer { stepLeft in
        stepSlot.withUnsafeBufferPointer { stepSlot in
        slotFeature.withUnsafeBufferPointer { slotFeature in
        slotInverseZero.withUnsafeBufferPointer { inverseZero in
        table.withUnsafeBufferPointer { table in
            for leaf in leaves {
                let d = Int(leaf.slotCount)
                followed.update(repeating: (1 << d) - 1, count: rows)
                let firstStep = Int(leaf.stepStart)
                for s in firstStep..<(firstStep + Int(leaf.stepCount)) {
                    let node = decisions + Int(stepNode[s]) * stride
                    let left = stepLeft[s]
                    let clear = ~(1 << Int(stepSlot[s]))
                    for r in 0..<rows { followed[r] &= node[r] == left ? -1 : clear }
                }
                let slots = Int(leaf.slotStart)
                let g = table.baseAddress! + leaf.tableStart
                for k in 0..<d {
                    let bit = 1 << k
                    let target = sums + Int(slotFeature[slots + k]) * stride
                    let onPath = leaf.value * (inverseZero[slots + k] - 1), offPath = -leaf.value
                    for r in 0..<rows {
                        let o = followed[r]
                        target[r] += (o & bit != 0 ? onPath : offPath) * g[o & ~bit]
                    }
                }
            }
        }}}}}}}
        for f in 0..<width {
            let source = sums + f * stride
            for r in 0..<rows { phi[r * width + f] += source[r] }
        }
        for index in recursive {
            for r in 0..<rows {
                for f in 0..<width { scratch.row[f] = columns[f][first + r] }
                let row = scratch.row
                TreeSHAP.add(ensemble.trees[index], { row[$0] }, into: phi + r * width, path: scratch.path)
            }
        }
    }
}
