// The radix sort of training values (bins and drift deciles) against the standard library's sort,
// and the drift profile it now learns against a count of every value by `FeatureProfile.bin`.
import XCTest
@testable import ListwiseKit

final class RadixSortTests: XCTestCase {
    func testSortsLikeTheStandardLibrary() {
        var random = SplitMix64(seed: 7)
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        let special: [Double] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                                 .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNormalMagnitude, 1, -1]
        for n in [0, 1, 2, 511, 512, 513, 5000, 70_000] {
            let kinds: [(String, () -> Double)] = [
                ("wide", { (uniform() - 0.5) * pow(10, Double(Int(random.next() % 40)) - 20) }),
                ("whole numbers", { Double(Int(random.next() % 40)) }),
                ("one exponent", { 1 + uniform() }),
                ("special", { special[Int(random.next() % UInt64(special.count))] }),
            ]
            for (kind, draw) in kinds {
                let values = (0..<n).map { _ in draw() }
                var sorted = values
                RadixSort.sort(&sorted)
                // −0.0 and 0.0 are equal to `<`; compare them as values, and check the order itself.
                XCTAssertEqual(sorted, values.sorted(), "\(kind), \(n) values")
                XCTAssertTrue(zip(sorted, sorted.dropFirst()).allSatisfy { $0 <= $1 }, "\(kind), \(n) values")
                XCTAssertEqual(sorted.map(\.bitPattern).sorted(), values.map(\.bitPattern).sorted(), "the same values, \(kind)")
            }
        }
    }

    func testSortedPresentDropsTheMissingValues() {
        let values: [Double] = (0..<2000).map { (i: Int) -> Double in
            let spread = Double((i * 7919) % 1000)
            return i % 7 == 0 ? .nan : spread - 500
        }
        let present = RadixSort.sortedPresent(values)
        XCTAssertEqual(present, values.filter { !$0.isNaN }.sorted())
        XCTAssertEqual(present.count, 2000 - 286)
    }

    func testProfileDecilesAndSharesMatchAValueByValueCount() {
        var random = SplitMix64(seed: 11)
        for (kind, n) in [("few distinct", 30_000), ("many distinct", 30_001), ("tiny", 7)] {
            let values: [Double] = (0..<n).map { _ in
                let u = random.next()
                if u % 13 == 0 { return .nan }
                return kind == "few distinct" ? Double(u % 6) : Double(u >> 11) / Double(1 << 53)
            }
            let profile = FeatureProfile.learn("x", values: values)
            let sorted = values.filter { !$0.isNaN }.sorted()
            var edges: [Double] = []
            for decile in 1..<10 {
                let edge = sorted[min(sorted.count - 1, decile * sorted.count / 10)]
                if edges.last != edge { edges.append(edge) }
            }
            if edges.last == sorted.last { edges.removeLast() }
            XCTAssertEqual(profile.edges, edges, kind)
            let counts = profile.counts(values)
            XCTAssertEqual(profile.shares, counts.map { Double($0) / Double(n) }, kind)
            XCTAssertEqual(counts.last, values.filter(\.isNaN).count, kind)
        }
        XCTAssertEqual(FeatureProfile.learn("x", values: [.nan, .nan]).shares, [0, 1])
        XCTAssertEqual(FeatureProfile.learn("x", values: []).shares, [0, 0])
    }
}
