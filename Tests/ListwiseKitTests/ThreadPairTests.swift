// The booster's pair of threads: both parts run at the same time on two threads, every run's
// work is done before `run` returns, a helper that has gone to sleep is woken, and `stop` ends it.
import Foundation
import Synchronization
import XCTest
@testable import ListwiseKit

final class ThreadPairTests: XCTestCase {
    /// Part 0 waits (up to 5 s) for a flag that only part 1 raises, and the other way round:
    /// run one after the other, the parts would time out.
    func testBothPartsRunAtOnceOnTwoThreads() {
        let pair = ThreadPair()
        defer { pair.stop() }
        for _ in 0..<50 {
            let flags = Flags()
            var threads: [Thread?] = [nil, nil]
            threads.withUnsafeMutableBufferPointer { threads in
                pair.run { part in
                    threads[part] = Thread.current
                    flags.raise(part)
                    let deadline = Date().addingTimeInterval(5)
                    while !flags.isRaised(1 - part) {
                        if Date() > deadline { flags.timedOut.store(true, ordering: .relaxed); return }
                    }
                }
            }
            XCTAssertFalse(flags.timedOut.load(ordering: .relaxed))
            XCTAssertTrue(threads[0] === Thread.current, "part 0 on the caller")
            XCTAssertFalse(threads[1] === Thread.current, "part 1 on the helper")
        }
    }

    /// Many short runs, each part adding into its own slot: every run is complete when `run`
    /// returns (the totals are exact), with the helper spinning between runs and, with no spin
    /// time, asleep before every one.
    func testEveryRunIsCompleteWhenItReturns() {
        for spin in [500, 0] {
            let pair = ThreadPair(spinMicroseconds: spin)
            var sums = [0, 0]
            sums.withUnsafeMutableBufferPointer { sums in
                for round in 1...2000 {
                    pair.run { part in sums[part] += round * (part + 1) }
                    XCTAssertEqual(sums[1], 2 * sums[0], "round \(round), spin \(spin) µs")
                    if spin == 0, round % 500 == 0 { usleep(2000) }
                }
            }
            XCTAssertEqual(sums, [2000 * 2001 / 2, 2000 * 2001], "spin \(spin) µs")
            pair.stop()
        }
    }
}

private final class Flags: Sendable {
    let first = Atomic<Bool>(false), second = Atomic<Bool>(false), timedOut = Atomic<Bool>(false)
    func raise(_ part: Int) {
        if part == 0 { first.store(true, ordering: .sequentiallyConsistent) } else { second.store(true, ordering: .sequentiallyConsistent) }
    }
    func isRaised(_ part: Int) -> Bool {
        part == 0 ? first.load(ordering: .sequentiallyConsistent) : second.load(ordering: .sequentiallyConsistent)
    }
}
