// The booster against LightGBM (values computed once by Benchmarks/reference/gbm_reference.py,
// fixture and expected values committed beside), and TreeSHAP against a brute-force Shapley
// computation.
import Foundation
import XCTest
@testable import ListwiseKit

final class GradientBoostingTests: XCTestCase {
    struct Expected: Decodable {
        var best_iteration: Int
        var valid_log_loss_curve: [Double]
        var test_auc: Double
        var test_raw_first_tree: [Double]
        var test_raw_best: [Double]
        var test_contrib_first_tree: [[Double]]
        var feature_names: [String]
    }

    struct Split { var x: [[Double]]; var y: [Double] }
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The fixture's train, valid and test rows, column by column.
    private func load() throws -> (train: Split, valid: Split, test: Split, expected: Expected) {
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent("gbm_fixture.csv"), encoding: .utf8)
        var splits: [String: Split] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var split = splits[cells[0]] ?? Split(x: Array(repeating: [], count: cells.count - 2), y: [])
            split.y.append(Double(cells[1])!)
            for f in 0..<(cells.count - 2) { split.x[f].append(cells[f + 2].isEmpty ? .nan : Double(cells[f + 2])!) }
            splits[cells[0]] = split
        }
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("gbm_expected.json")))
        return (splits["train"]!, splits["valid"]!, splits["test"]!, expected)
    }

    private func fit(_ data: (train: Split, valid: Split, test: Split, expected: Expected), threads: Int = 1,
                     _ change: (inout BoostingSettings) -> Void = { _ in }) throws -> BoostedTrees {
        var settings = BoostingSettings()
        settings.threads = threads
        change(&settings)
        return try GradientBoosting.fit(features: data.expected.feature_names, training: data.train.x, labels: data.train.y,
                                        validation: data.valid.x, validationLabels: data.valid.y, settings: settings)
    }

    private func row(_ split: Split, _ i: Int) -> (Int) -> Double { { split.x[$0][i] } }

    func testFirstTreeIsLightGBMsTree() throws {
        let data = try load()
        let model = try fit(data)
        var first = model
        first.trees = [model.trees[0]]
        for (i, expected) in data.expected.test_raw_first_tree.enumerated() {
            // LightGBM keeps gradients as 32-bit floats: leaf values agree to about 1e-6.
            XCTAssertEqual(first.rawScore(row(data.test, i)), expected, accuracy: 1e-5, "row \(i)")
        }
        XCTAssertEqual(model.trees[0].feature.filter { $0 < 0 }.count, 31, "31 leaves")
    }

    func testEarlyStoppingAndAUCMatchLightGBM() throws {
        let data = try load()
        let model = try fit(data)
        // The trees are LightGBM's for the first five (checked against its model dump: same splits,
        // leaf values to 1e-6); later, near-ties in gain go either way (LightGBM sums 32-bit
        // gradients), and the validation curve is flat near its minimum: 30 trees here against 25.
        XCTAssertLessThanOrEqual(abs(model.trees.count - data.expected.best_iteration), 5,
                                 "\(model.trees.count) trees against LightGBM's \(data.expected.best_iteration)")
        let curve = try XCTUnwrap(model.validationLogLoss)
        XCTAssertEqual(curve.count, model.trees.count + 50, "stops 50 trees after the best")
        for k in 0..<5 { XCTAssertEqual(curve[k], data.expected.valid_log_loss_curve[k], accuracy: 2e-6, "tree \(k + 1)") }
        XCTAssertEqual(curve.min()!, curve[model.trees.count - 1], "kept the best tree count")
        XCTAssertLessThanOrEqual(curve.min()!, data.expected.valid_log_loss_curve.min()! + 0.001)
        let p = (0..<data.test.y.count).map { LogisticRegression.sigmoid(model.rawScore(row(data.test, $0))) }
        let auc = Metrics.evaluate(y: data.test.y, p: p).rocAUC
        XCTAssertEqual(auc, data.expected.test_auc, accuracy: 0.002)
    }

    func testTwoThreadsGrowTheSameTrees() throws {
        let data = try load()
        let one = try fit(data, threads: 1)
        let two = try fit(data, threads: 2)
        XCTAssertEqual(one.trees.count, two.trees.count)
        for (a, b) in zip(one.trees, two.trees) {
            XCTAssertEqual(a.feature, b.feature)
            XCTAssertEqual(a.threshold, b.threshold)
            for (u, v) in zip(a.value, b.value) { XCTAssertEqual(u, v, accuracy: 1e-12) }
        }
    }

    /// Leaves large enough for the two-thread partition (50k rows) and histograms (20k): the same
    /// trees and covers as one thread.
    func testTwoThreadsSplitLargeLeavesTheSameWay() throws {
        var random = SplitMix64(seed: 11)
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        let n = 120_000
        let columns = (0..<5).map { f in (0..<n).map { _ in f == 4 && uniform() < 0.2 ? Double.nan : (uniform() * 40).rounded() } }
        let labels = (0..<n).map { i -> Double in
            let x4 = columns[4][i].isNaN ? 30 : columns[4][i]
            let eta = 0.08 * columns[0][i] - 0.05 * columns[1][i] + (columns[2][i] > 20 && x4 > 10 ? 1 : 0) - 2.5
            return uniform() < 1 / (1 + exp(-eta)) ? 1 : 0
        }
        var settings = BoostingSettings()
        settings.maxTrees = 6
        settings.threads = 1
        let one = try GradientBoosting.fit(features: ["a", "b", "c", "d", "e"], training: columns, labels: labels, settings: settings)
        settings.threads = 2
        let two = try GradientBoosting.fit(features: ["a", "b", "c", "d", "e"], training: columns, labels: labels, settings: settings)
        XCTAssertEqual(one.trees.count, 6)
        for (a, b) in zip(one.trees, two.trees) {
            XCTAssertEqual(a.feature, b.feature)
            XCTAssertEqual(a.threshold, b.threshold)
            XCTAssertEqual(a.defaultLeft, b.defaultLeft)
            XCTAssertEqual(a.cover, b.cover)
            for (u, v) in zip(a.value, b.value) { XCTAssertEqual(u, v, accuracy: 1e-12) }
        }
        XCTAssertEqual(one.trees[0].cover[0], Double(n))
        XCTAssertTrue(one.trees[0].feature.contains(4), "the feature with missing values is used")
    }

    func testTreeSHAPOfTheFirstTreeIsLightGBMsContributions() throws {
        let data = try load()
        var model = try fit(data)
        model.trees = [model.trees[0]]
        for (i, expected) in data.expected.test_contrib_first_tree.enumerated() {
            let (phi, bias) = TreeSHAP.contributions(model, row(data.test, i))
            for f in phi.indices { XCTAssertEqual(phi[f], expected[f], accuracy: 1e-5, "row \(i) feature \(f)") }
            XCTAssertEqual(bias, expected.last!, accuracy: 1e-5)
        }
    }

    func testTreeSHAPSumsToTheRawScore() throws {
        let data = try load()
        let model = try fit(data)
        for i in 0..<200 {
            let (phi, expected) = TreeSHAP.contributions(model, row(data.test, i))
            XCTAssertEqual(phi.reduce(expected, +), model.rawScore(row(data.test, i)), accuracy: 1e-9)
        }
    }

    /// v(S) = E[f(x) | x_S] by the path-dependent rule, then φᵢ = Σ_S |S|!(M−|S|−1)!/M! (v(S ∪ i) − v(S)).
    func testTreeSHAPEqualsBruteForceShapleyValues() throws {
        let data = try load()
        let model = try fit(data) { $0.maxLeaves = 12; $0.maxTrees = 3; $0.earlyStoppingRounds = 1000 }
        let m = data.expected.feature_names.count
        func conditional(_ tree: RegressionTree, _ node: Int, _ known: Int, _ x: (Int) -> Double) -> Double {
            let f = tree.feature[node]
            if f < 0 { return tree.value[node] }
            if known & (1 << f) != 0 {
                return conditional(tree, tree.goesLeft(node, x(f)) ? tree.left[node] : tree.right[node], known, x)
            }
            let (l, r) = (tree.left[node], tree.right[node])
            return (tree.cover[l] * conditional(tree, l, known, x) + tree.cover[r] * conditional(tree, r, known, x)) / tree.cover[node]
        }
        func factorial(_ k: Int) -> Double { k <= 1 ? 1 : Double(k) * factorial(k - 1) }
        XCTAssertGreaterThan(Set(model.trees.flatMap { $0.feature.filter { $0 >= 0 } }).count, 3, "trees use several features")
        for i in 0..<40 {
            let x = row(data.test, i)
            let (phi, expected) = TreeSHAP.contributions(model, x)
            for f in 0..<m {
                var brute = 0.0
                for s in 0..<(1 << m) where s & (1 << f) == 0 {
                    let size = s.nonzeroBitCount
                    let weight = factorial(size) * factorial(m - size - 1) / factorial(m)
                    for tree in model.trees {
                        brute += weight * (conditional(tree, 0, s | (1 << f), x) - conditional(tree, 0, s, x))
                    }
                }
                XCTAssertEqual(phi[f], brute, accuracy: 1e-10, "row \(i) feature \(f)")
            }
            let empty = model.trees.reduce(model.baseScore) { $0 + conditional($1, 0, 0, x) }
            XCTAssertEqual(expected, empty, accuracy: 1e-12, "the expected value is v(∅)")
        }
    }

    /// The contribution cache's tables grow with their patterns (entries and values stay where
    /// they were put) until the budget is spent; trees of more than 64 splits keep none.
    func testContributionCacheGrowsUntilItsBudget() {
        let cache = ContributionCache(trees: [(features: 3, nodes: 30), (features: 2, nodes: 65), (features: 5, nodes: 64)], shards: 1,
                                      budgetBytes: 1 << 20)
        var kept: [[UInt64]] = [[], [], []]
        cache.withShard { shard in
            XCTAssertEqual([shard.keeps(0), shard.keeps(1), shard.keeps(2)], [true, false, true])
            XCTAssertNil(shard.insert(1, 7))
            var generator = SplitMix64(seed: 3)
            for _ in 0..<40_000 {
                let t = [0, 2].randomElement(using: &generator)!
                let key = generator.next()
                let width = t == 0 ? 3 : 5
                guard let entry = shard.insert(t, key) else { continue }
                XCTAssertEqual(Int(entry), kept[t].count, "entries in order")
                XCTAssertNil(shard.insert(t, key), "a kept pattern is not kept twice")
                for k in 0..<width { shard.values(t)[Int(entry) * width + k] = Double(key % 1000) + Double(k) }
                kept[t].append(key)
            }
            let entries = kept[0].count + kept[2].count
            XCTAssertEqual(shard.patterns, entries)
            XCTAssertGreaterThan(entries, 4_000, "grown well past the first tables")
            XCTAssertLessThan(entries, 40_000, "the budget stops it")
            XCTAssertLessThanOrEqual(kept[0].count * 3 * 8 + kept[2].count * 5 * 8, 1 << 20)
            for t in [0, 2] {
                let width = t == 0 ? 3 : 5
                for (entry, key) in kept[t].enumerated() {
                    XCTAssertEqual(shard.find(t, key), Int32(entry))
                    for k in 0..<width { XCTAssertEqual(shard.values(t)[entry * width + k], Double(key % 1000) + Double(k)) }
                }
            }
            XCTAssertEqual(shard.find(0, 12345), -1)
            XCTAssertEqual(shard.find(1, 7), -1)
        }
        XCTAssertEqual(cache.patterns, kept[0].count + kept[2].count)
    }

    func testLeafTablesGiveTheRecursiveContributions() throws {
        let data = try load()
        // Deep trees too; with at most 5 distinct features a path for tables, trees with longer
        // paths take the recursion (mixed in one ensemble).
        for (leaves, distinct) in [(31, 12), (255, 12), (31, 5)] {
            let model = try fit(data) { $0.maxLeaves = leaves; $0.minRowsInLeaf = 5; $0.maxTrees = 20; $0.earlyStoppingRounds = 1000 }
            let explainer = TreeExplainer(model, maxDistinct: distinct)
            if distinct == 5 {
                XCTAssertGreaterThan(explainer.tabledTrees, 0)
                XCTAssertLessThan(explainer.tabledTrees, model.trees.count)
            } else {
                XCTAssertEqual(explainer.tabledTrees, model.trees.count)
            }
            let scratch = TreeExplainer.Scratch(explainer)
            XCTAssertEqual(explainer.expected, TreeSHAP.expectedValue(model), accuracy: 1e-12)
            // Rows 10..<310 in one call (a batch of 256 and one of 44); and row 5 alone.
            var phi = [Double](repeating: 0, count: 300 * 6)
            let columns = data.test.x.map { column in column.withUnsafeBufferPointer { $0.baseAddress! } }
            withExtendedLifetime(data) {
                phi.withUnsafeMutableBufferPointer { explainer.add(rows: 10..<310, columns: columns, into: $0.baseAddress!, scratch: scratch) }
            }
            for i in 0..<300 {
                let reference = TreeSHAP.contributions(model, row(data.test, 10 + i)).phi
                for f in 0..<6 { XCTAssertEqual(phi[i * 6 + f], reference[f], accuracy: 1e-10, "row \(10 + i) feature \(f), \(leaves) leaves") }
            }
            // The same rows again: the patterns met are now looked up, with the same numbers.
            let patterns = explainer.cache.patterns
            if leaves == 31 {
                XCTAssertGreaterThan(patterns, 0)
                XCTAssertLessThan(patterns, 300 * explainer.tabledTrees, "rows share patterns")
            } else {
                XCTAssertEqual(patterns, 0, "trees of more than 64 splits are not cached")
            }
            var again = [Double](repeating: 0, count: 300 * 6)
            withExtendedLifetime(data) {
                again.withUnsafeMutableBufferPointer { explainer.add(rows: 10..<310, columns: columns, into: $0.baseAddress!, scratch: scratch) }
            }
            XCTAssertEqual(again, phi)
            XCTAssertEqual(explainer.cache.patterns, patterns)
            let x = (0..<6).map { data.test.x[$0][5] }
            var one = [Double](repeating: 0, count: 6)
            x.withUnsafeBufferPointer { x in one.withUnsafeMutableBufferPointer { explainer.add(x.baseAddress!, into: $0.baseAddress!, scratch: scratch) } }
            let reference = TreeSHAP.contributions(model, row(data.test, 5)).phi
            for f in 0..<6 { XCTAssertEqual(one[f], reference[f], accuracy: 1e-10) }
        }
    }

    /// The early-stopping walk in bin terms (eight rows side by side, then the rest one by one,
    /// on one thread and on two) gives each validation row the score of the kept trees on its raw
    /// values, missing ones included.
    func testValidationScoresAreTheKeptTreesScores() throws {
        var random = SplitMix64(seed: 5)
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        func rows(_ n: Int) -> (columns: [[Double]], labels: [Double]) {
            let columns = (0..<4).map { f in (0..<n).map { _ in f == 3 && uniform() < 0.25 ? Double.nan : (uniform() * 30).rounded() } }
            let labels = (0..<n).map { i -> Double in
                let eta = 0.1 * columns[0][i] - 0.06 * columns[1][i] + (columns[3][i].isNaN ? 0.8 : 0) - 2
                return uniform() < 1 / (1 + exp(-eta)) ? 1 : 0
            }
            return (columns, labels)
        }
        let training = rows(30_000), validation = rows(20_003)
        for threads in [1, 2] {
            var settings = BoostingSettings()
            settings.threads = threads
            settings.earlyStoppingRounds = 5
            let fit = try GradientBoosting.fit(features: ["a", "b", "c", "d"], column: { training.columns[$0] }, labels: GradientBoosting.binaryLabels(training.labels),
                                               validationColumn: { validation.columns[$0] }, validationLabels: validation.labels,
                                               settings: settings)
            let scores = try XCTUnwrap(fit.validationScores)
            XCTAssertGreaterThan(fit.trees.trees.count, 3)
            XCTAssertEqual(scores.count, 20_003)
            for i in 0..<20_003 {
                XCTAssertEqual(scores[i], fit.trees.rawScore { validation.columns[$0][i] }, accuracy: 1e-12, "row \(i), \(threads) threads")
            }
        }
    }

    /// The early-stopping log loss, taken as the logarithm of a product, against a log1p a row
    /// (Kahan-summed), on scores of several sizes and spreads, and the same on one thread or two.
    func testValidationLogLossIsTheSumOfLog1pTerms() {
        var random = SplitMix64(seed: 9)
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        for (n, spread) in [(1, 3.0), (31, 3.0), (100_003, 4.0), (50_000, 40.0), (20_000, 0.001)] {
            let scores = (0..<n).map { _ in (uniform() - 0.7) * 2 * spread }
            let y = scores.map { uniform() < 1 / (1 + exp(-$0)) ? 1.0 : 0.0 }
            // Kahan-summed reference: log(1 + e^f) − y·f a row.
            var sum = 0.0, carry = 0.0
            for (f, label) in zip(scores, y) {
                let term = (f > 0 ? f + log1p(exp(-f)) : log1p(exp(f))) - label * f - carry
                let next = sum + term
                carry = (next - sum) - term
                sum = next
            }
            let reference = sum / Double(n)
            for threads in [1, 2] {
                let loss = GradientBoosting.logLoss(y, scores, threads: threads)
                XCTAssertEqual(loss, reference, accuracy: 1e-14 * max(1, abs(reference)), "\(n) rows, spread \(spread)")
            }
            XCTAssertEqual(GradientBoosting.logLoss(y, scores, threads: 1), GradientBoosting.logLoss(y, scores, threads: 2))
        }
    }

    /// Labels reach the booster as bytes: 0 and 1 pass through, anything else is a usage error
    /// (not a silent 0).
    func testLabelsOtherThanZeroAndOneAreRejected() throws {
        XCTAssertEqual(try GradientBoosting.binaryLabels([0, 1, 1, 0]), [0, 1, 1, 0])
        for bad in [0.5, -1, Double.nan, 2] {
            XCTAssertThrowsError(try GradientBoosting.fit(features: ["x"], training: [[1, 2, 3]], labels: [0, 1, bad])) { error in
                guard case ListwiseError.usage = error else { return XCTFail("\(error)") }
            }
        }
        XCTAssertThrowsError(try GradientBoosting.fit(features: ["x"], column: { _ in [1, 2, 3] }, labels: [0, 1, 2])) { error in
            guard case ListwiseError.usage = error else { return XCTFail("\(error)") }
        }
    }

    /// The binning's pipeline: items made one at a time in order (a caller may hash them as they
    /// come), each consumed once, by two threads; the first error stops the making and comes out.
    func testItemsAreMadeInOrderAndEachConsumedOnce() throws {
        let lock = NSLock()
        var made: [Int] = [], consumed: [Int] = []
        try producedInOrder(50, workers: 2, produce: { i -> Int in
            made.append(i)   // under the pipeline's lock
            return i * i
        }, consume: { i, item in
            XCTAssertEqual(item, i * i)
            usleep(UInt32(i % 3) * 200)
            lock.lock(); consumed.append(i); lock.unlock()
        })
        XCTAssertEqual(made, Array(0..<50))
        XCTAssertEqual(consumed.sorted(), Array(0..<50))

        struct Unreadable: Error {}
        made = []
        XCTAssertThrowsError(try producedInOrder(50, workers: 2, produce: { i -> Int in
            if i == 7 { throw Unreadable() }
            made.append(i)
            return i
        }, consume: { _, _ in })) { XCTAssertTrue($0 is Unreadable) }
        XCTAssertEqual(made, Array(0..<7))

        // A column of the wrong length is an error of the fit, whichever thread reads it.
        XCTAssertThrowsError(try GradientBoosting.fit(features: ["a", "b", "c"], column: { f in f == 2 ? [1, 2] : [1, 2, 3] },
                                                      labels: [0, 1, 0])) { error in
            guard case LinearAlgebraError.dimensionMismatch = error else { return XCTFail("\(error)") }
        }
    }

    /// No features: one tree of one leaf that adds nothing, and the base rate's log-odds.
    func testNoFeaturesGiveTheBaseRate() throws {
        let labels: [Double] = (0..<100).map { $0 < 25 ? 1 : 0 }
        let model = try GradientBoosting.fit(features: [], training: [], labels: labels)
        XCTAssertEqual(model.baseScore, log(0.25 / 0.75), accuracy: 1e-12)
        XCTAssertEqual(model.rawScore { _ in .nan }, log(0.25 / 0.75), accuracy: 1e-12)
        XCTAssertLessThanOrEqual(model.trees.count, 1)
    }

    func testMissingValuesGetTheirOwnDirection() throws {
        // x has values 0...9; rows with x missing list 90 % of the time, the others 10 %.
        var x: [Double] = [], y: [Double] = []
        for i in 0..<2000 {
            let missing = i % 4 == 0
            x.append(missing ? .nan : Double(i % 10))
            y.append((missing ? i % 10 != 3 : i % 10 == 3) ? 1 : 0)
        }
        var settings = BoostingSettings()
        settings.maxLeaves = 2
        settings.maxTrees = 1
        let model = try GradientBoosting.fit(features: ["x"], training: [x], labels: y, settings: settings)
        let tree = model.trees[0]
        XCTAssertEqual(tree.feature[0], 0)
        XCTAssertEqual(tree.threshold[0], .infinity, "every value on one side, the missing ones on the other")
        XCTAssertGreaterThan(tree.predict { _ in .nan }, 0)
        XCTAssertLessThan(tree.predict { _ in 5 }, 0)
    }

    func testBinsHoldEqualSharesOfManyDistinctValues() {
        let values = (0..<100_000).map { Double(($0 * 7919) % 100_000) / 10 }
        let bins = FeatureBins.learn([values + [.nan]], maxBins: 255)
        XCTAssertEqual(bins.bounds[0].count, 254, "254 value bins and the missing bin")
        var counts = [Int](repeating: 0, count: 256)
        for v in values { counts[Int(bins.bin(v, feature: 0))] += 1 }
        XCTAssertEqual(bins.bin(.nan, feature: 0), GradientBoosting.missingBin)
        for c in counts[0..<254] { XCTAssertEqual(Double(c), 100_000.0 / 254, accuracy: 3) }
        for v in values.prefix(1000) {
            let b = Int(bins.bin(v, feature: 0))
            XCTAssertLessThanOrEqual(v, bins.bounds[0][b])
            if b > 0 { XCTAssertGreaterThan(v, bins.bounds[0][b - 1]) }
        }
    }

    /// The column binning (branch-free counts against padded bounds) gives the binary search's
    /// bins: for 254, a few and one bound(s), on the bounds themselves, their neighbours, ±∞ and NaN.
    func testColumnBinningEqualsTheBinarySearch() {
        var random = SplitMix64(seed: 7)
        for distinct in [100_000, 40, 3, 1] {
            let training = (0..<20_000).map { _ in Double(random.next() % UInt64(distinct)) - Double(distinct / 2) }
            let bins = FeatureBins.learn([training], maxBins: 255)
            var values = training.prefix(2000) + [.nan, .infinity, -.infinity, 0, -0.0, .greatestFiniteMagnitude]
            for bound in bins.bounds[0] { values += [bound, bound.nextUp, bound.nextDown] }
            var column = [UInt8](repeating: 0, count: values.count)
            column.withUnsafeMutableBufferPointer { bins.bin(Array(values), feature: 0, into: $0.baseAddress!) }
            for (value, bin) in zip(values, column) {
                XCTAssertEqual(bin, bins.bin(value, feature: 0), "\(value) with \(bins.bounds[0].count) bounds")
            }
        }
    }
}
