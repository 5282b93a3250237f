// Results of work split over threads (the SQLite store's parallel reads, the fit's passes), one slot a part.
import Foundation

/// What threads hand back, one slot each, each set once: the export's two halves of the run,
/// the list file written beside the history insert, a fit's partial sums.
final class ThreadResults<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<Value, any Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<Value, any Error>) {
        lock.lock()
        results[index] = result
        lock.unlock()
    }

    /// Every slot's value in order, or the first error (call once every thread is done).
    func all() throws -> [Value] {
        lock.lock()
        defer { lock.unlock() }
        return try results.map { try $0!.get() }
    }
}
