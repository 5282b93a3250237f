// Two threads for the booster's many short passes (a leaf's histogram, a partition, a score
// update: tens to hundreds of microseconds each): the calling thread and a helper of its own
// that waits for work by spinning on a counter for a while before it sleeps.
//
// `DispatchQueue.concurrentPerform` wakes a sleeping worker for every call; on this kind of
// machine (a VM with 2 cores) that took longer than the work up to ~100k values: two halves of
// a 128k-element pass took 120–130 µs through it against 106 µs on one thread and 54 µs here
// (README, session 22). Semaphores and atomics from the standard library; there is no package
// of spinning thread teams for Swift, and OpenMP's is what this imitates.
import CPrefetch
import Dispatch
import Foundation
import Synchronization

/// Runs `body(0)` on the calling thread and `body(1)` on the helper thread at once. One caller at
/// a time, and `body` must not call `run` again. Call `stop()` when done: the helper thread holds
/// the pair until then.
final class ThreadPair: @unchecked Sendable {
    // Safety: `job` and `stopping` are written by the caller only before it publishes a new
    // generation (sequentially consistent store) and read by the helper only after it has
    // loaded that generation (acquire); `job` is cleared only after the helper has finished it.
    private let generation = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let sleeping = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
    private var job: ((Int) -> Void)?
    private var stopping = false
    private let spinNanoseconds: UInt64

    /// `spinMicroseconds`: how long the helper spins for new work before it sleeps. The booster's
    /// passes come every few to few hundred microseconds while a tree grows.
    init(spinMicroseconds: Int = 500) {
        spinNanoseconds = UInt64(max(0, spinMicroseconds)) * 1000
        let thread = Thread { [self] in helper() }
        thread.name = "listwise-pair"
        thread.start()
    }

    func run(_ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            job = body
            let published = publish()
            body(0)
            // The parts are about equal, so the helper is usually done or nearly; when it is not
            // (its core taken by another process), the caller yields its own after a while.
            var spins = 0
            while finished.load(ordering: .acquiring) != published {
                listwise_spin_pause()
                spins &+= 1
                if spins > 4096 { sched_yield() }
            }
            job = nil
        }
    }

    /// Ends the helper thread; the pair cannot run anything after.
    func stop() {
        stopping = true
        _ = publish()
        exited.wait()
    }

    private func publish() -> Int {
        let next = generation.load(ordering: .relaxed) &+ 1
        generation.store(next, ordering: .sequentiallyConsistent)
        // The helper raises `sleeping` before its last look at the generation, and clears it
        // itself when it saw the new one first: a signal is sent only to a helper that will wait.
        if sleeping.exchange(false, ordering: .sequentiallyConsistent) { wake.signal() }
        return next
    }

    private func helper() {
        var seen = 0
        while true {
            var spins = 0, since: UInt64 = 0
            while generation.load(ordering: .acquiring) == seen {
                listwise_spin_pause()
                spins &+= 1
                guard spins & 63 == 0 else { continue }
                let now = DispatchTime.now().uptimeNanoseconds
                if since == 0 { since = now; continue }
                guard now - since > spinNanoseconds else { continue }
                sleeping.store(true, ordering: .sequentiallyConsistent)
                if generation.load(ordering: .sequentiallyConsistent) == seen {
                    wake.wait()
                } else if !sleeping.exchange(false, ordering: .sequentiallyConsistent) {
                    wake.wait()   // the caller cleared the flag and signalled: take that signal
                }
                since = 0
            }
            seen = generation.load(ordering: .acquiring)
            if stopping { exited.signal(); return }
            job!(1)
            finished.store(seen, ordering: .releasing)
        }
    }
}
