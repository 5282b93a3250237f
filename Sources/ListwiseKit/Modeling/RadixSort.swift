// Ascending sorts of many doubles for the training features' bins and deciles: a least-significant-
// digit radix sort on the values' bits. Hand-written because it is a hot path: the standard
// library's sort took 8–15 ms for a feature's 196k training values at 100k homes (a third of the
// trees' binning, and again for the drift profiles); this takes ~2 ms (RadixSortTests, README).

enum RadixSort {
    /// Digits of 11 bits (the last one of 9): each pass's 2,048 counters stay in the L1 cache.
    private static let digitBits = 11
    private static let passes = 6

    /// Sorts `values` ascending. They must hold no NaN; −0.0 comes before 0.0 (they compare equal,
    /// so the result is sorted as `<` sees it).
    static func sort(_ values: inout [Double]) {
        let n = values.count
        guard n > 1 else { return }
        guard n >= 512 else { values.sort(); return }
        values.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: UInt64.self) { keys in
                sortKeys(keys.baseAddress!, n)
            }
        }
    }

    /// The values of `values` that are not NaN, ascending.
    static func sortedPresent(_ values: [Double]) -> [Double] {
        var present = values.filter { !$0.isNaN }
        sort(&present)
        return present
    }

    /// Sorts the bit patterns of `n` doubles in place by the values they stand for.
    private static func sortKeys(_ keys: UnsafeMutablePointer<UInt64>, _ n: Int) {
        let sign: UInt64 = 1 << 63, mask = UInt64((1 << digitBits) - 1), buckets = 1 << digitBits
        // Order-preserving map to unsigned integers: negatives reversed below the positives.
        for i in 0..<n {
            let bits = keys[i]
            keys[i] = bits & sign != 0 ? ~bits : bits | sign
        }
        // Every pass's counts in one read of the keys.
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: passes * buckets)
        counts.initialize(repeating: 0, count: passes * buckets)
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
        defer { counts.deallocate(); scratch.deallocate() }
        for i in 0..<n {
            let key = keys[i]
            for pass in 0..<passes {
                counts[pass &* buckets &+ Int(truncatingIfNeeded: (key >> UInt64(pass &* digitBits)) & mask)] &+= 1
            }
        }
        var source = keys, target = scratch
        for pass in 0..<passes {
            let count = counts + pass * buckets
            let shift = UInt64(pass * digitBits)
            // A digit that every key shares moves nothing (the low mantissa bits of whole numbers,
            // the exponent of values of one size): skipped.
            if count[Int(truncatingIfNeeded: (source[0] >> shift) & mask)] == n { continue }
            var offset = 0
            for digit in 0..<buckets {
                let c = count[digit]
                count[digit] = offset
                offset &+= c
            }
            for i in 0..<n {
                let key = source[i]
                let digit = Int(truncatingIfNeeded: (key >> shift) & mask)
                target[count[digit]] = key
                count[digit] &+= 1
            }
            swap(&source, &target)
        }
        if source != keys { keys.update(from: source, count: n) }
        for i in 0..<n {
            let bits = keys[i]
            keys[i] = bits & sign != 0 ? bits & ~sign : ~bits
        }
    }
}
