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
