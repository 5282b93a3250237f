// The feature pass on several threads (scoring, training): each reader streams the features of
// its share of the property ids from its own read-only connection; the calling thread takes the
// chunks. With 2 readers on 2 cores a 1M-home scoring pass took 12 s where one thread took 19 s.
import Dispatch
import Foundation
import GRDB
import Synchronization

/// Chunks on their way from the reader threads to the caller, tagged with the reader's part: a
/// bounded queue (at most `capacity` chunks wait, so memory stays bounded) that ends when every
/// producer has finished.
final class ChunkQueue<Chunk: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [(part: Int, chunk: Chunk)] = []
    private var running: Int
    private let capacity: Int
    private var failure: (any Error)?
    private var cancelled = false

    init(producers: Int, capacity: Int) {
        running = producers
        self.capacity = capacity
    }

    /// Waits for room; throws when the consumer has given up.
    func put(_ chunk: Chunk, part: Int) throws {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity, !cancelled { condition.wait() }
        if cancelled { throw CancellationError() }
        queue.append((part, chunk))
        condition.broadcast()
    }

    /// A producer is done, with the error that stopped it, if any.
    func finish(_ error: (any Error)?) {
        condition.lock()
        defer { condition.unlock() }
        running -= 1
        if let error, failure == nil, !(error is CancellationError) { failure = error }
        if error != nil { cancelled = true }
        condition.broadcast()
    }

    /// The next chunk; nil when every producer has finished; the first producer error, if any.
    func next() throws -> (part: Int, chunk: Chunk)? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty, running > 0, failure == nil { condition.wait() }
        if let failure {
            cancelled = true
            condition.broadcast()
            while running > 0 { condition.wait() }
            throw failure
        }
        if queue.isEmpty { return nil }
        let item = queue.removeFirst()
        condition.broadcast()
        return item
    }

    /// Stops the producers (their next `put` throws) and waits until they have all finished.
    func cancelAndWait() {
        condition.lock()
        defer { condition.unlock() }
        cancelled = true
        condition.broadcast()
        while running > 0 { condition.wait() }
    }
}

/// Where the readers of a parallel pass meet once: each brings the zip counts of its homes and
/// leaves with everyone's sum (the zip rates need every home). A reader that fails breaks it, so
/// that no other waits for ever.
final class ZipBarrier: @unchecked Sendable {
    private let condition = NSCondition()
    private var parts: [ZipCounts?]
    private var merged: (total: ZipCounts, slots: [[Int32]])?
    private var broken = false
    private let snapshots: Int

    init(parts: Int, snapshots: Int) {
        self.parts = Array(repeating: nil, count: parts)
        self.snapshots = snapshots
    }

    /// Everyone's sum, and for each part the slot in the sum of each of its own zip slots.
    func merge(_ counts: ZipCounts, part: Int) throws -> (total: ZipCounts, slots: [[Int32]]) {
        condition.withLock {
            parts[part] = counts
            if parts.allSatisfy({ $0 != nil }) {
                merged = ZipCounts.merged(parts.map { $0! }, snapshots: snapshots)
                condition.broadcast()
            }
        }
        return try result()
    }

    /// The sum and slot maps, once every part has merged (waits until then; throws when a
    /// reader failed).
    func result() throws -> (total: ZipCounts, slots: [[Int32]]) {
        condition.lock()
        defer { condition.unlock() }
        while merged == nil, !broken { condition.wait() }
        if let merged { return merged }
        throw CancellationError()
    }

    func breakAll() {
        condition.lock()
        broken = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Each range's spilled chunks, from the reader that read it to the one that scores it (and to
/// the thread of a second look).
private final class SpillSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [SpilledChunks?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ spill: SpilledChunks) { lock.withLock { slots[index] = spill } }

    /// The range's chunks; unless `keep`, let go here (the file closes when the taker is done
    /// with it). Kept, they go with the slots.
    func take(_ index: Int, keep: Bool = false) -> SpilledChunks {
        lock.withLock {
            defer { if !keep { slots[index] = nil } }
            return slots[index]!
        }
    }
}

/// Reader threads started by `AppDatabase.startFeatureReaders`; `forEach` takes their chunks.
final class FeatureReaders<Chunk: Sendable> {
    fileprivate let queue: ChunkQueue<Chunk>
    /// The consecutive ranges of property ids the parts read, in order: part 0's rows, then part
    /// 1's, ... are the rows of a one-thread pass, in its order.
    let parts: Int
    /// The spilled ranges and the zips' sum, kept for `lookAgain`.
    private let spills: SpillSlots?
    private let zips: ZipBarrier?

    fileprivate init(queue: ChunkQueue<Chunk>, parts: Int, spills: SpillSlots? = nil, zips: ZipBarrier? = nil) {
        self.queue = queue
        self.parts = parts
        self.spills = spills
        self.zips = zips
    }

    /// For readers started with `keepSpills`: every range's chunks once more, with their zip
    /// rates but not their property ids (the first look had them), `transform` applied on one
    /// thread of its own, in the order of a one-thread pass
    /// (part 0's chunks first, each part's in order), at most `capacity` waiting (scoring: 8
    /// chunks of reasons, ~3 MB each at 50,000 homes, so that the thread keeps explaining while
    /// the caller writes the rank order). Call it any time after the start: the thread waits
    /// until every home is read, then runs beside the readers' own look. The ranges' files go
    /// with these readers.
    func lookAgain<Again: Sendable>(capacity: Int = 8, _ transform: @escaping @Sendable (FeatureTable) throws -> Again)
        -> FeatureReaders<Again> {
        guard let spills, let zips else { preconditionFailure("lookAgain needs readers that keep their spills") }
        let queue = ChunkQueue<Again>(producers: 1, capacity: max(1, capacity))
        let parts = parts
        Thread {
            do {
                let merged = try zips.result()
                for part in 0..<parts {
                    let spill = spills.take(part, keep: true)
                    try spill.forEach(ids: false) { chunk, rowZip in
                        var chunk = chunk
                        FeatureBuilder.fillZipRates(&chunk, rowZip: rowZip, zips: merged.total, slots: merged.slots[spill.reader])
                        try queue.put(try transform(chunk), part: part)
                    }
                }
                queue.finish(nil)
            } catch {
                queue.finish(error)
            }
        }.start()
        return FeatureReaders<Again>(queue: queue, parts: parts)
    }

    /// For readers started with `keepSpills`, once their pass has read every home (from the
    /// first chunk `forEach` hands over): each range's rows and bytes of property ids.
    func spilledSizes() -> [(rows: Int, idBytes: Int)] {
        guard let spills else { preconditionFailure("spilledSizes needs readers that keep their spills") }
        return (0..<parts).map { part in
            let spill = spills.take(part, keep: true)
            return (spill.rows, spill.idBytes)
        }
    }

    /// Stops the threads (their next chunk is not made) and waits for them; nothing once they
    /// are done.
    func stop() { queue.cancelAndWait() }

    /// Hands each chunk to `body` on the calling thread (within a part, in order); on an error
    /// the readers are stopped before it is thrown.
    func forEach(_ body: (_ part: Int, _ chunk: Chunk) throws -> Void) throws {
        do {
            while let item = try queue.next() { try body(item.part, item.chunk) }
        } catch {
            queue.cancelAndWait()
            throw error
        }
    }
}

extension AppDatabase {
    /// Ranges of property ids a worker takes in turn (after its zip counts).
    static let rangesPerWorker = 4

    /// Starts `workers` threads, each streaming the features of ranges of property ids taken in
    /// turn (chunks of about `chunkRows` rows, `transform` applied on the thread; a range's chunks
    /// are tagged with its number, its `part`) from its own read-only connection. Call it inside
    /// a write transaction on `db` (BEGIN IMMEDIATE): it returns once every reader has begun its read, so all of them see the same data as `db`,
    /// whether the caller keeps the lock (scoring, which writes) or commits at once (training,
    /// which must not keep imports waiting).
    ///
    /// `countZipsInPass`: the zips are counted by the pass itself, its chunks spilled to
    /// temporary files (`SpilledChunks`) until every home is read, then each range's chunks
    /// read back, given their zip rates and transformed (scoring: the pass then reads each home
    /// once); otherwise by one SQL query a snapshot before the pass (training, whose rows wait
    /// in files of their own). `keepSpills` (with `countZipsInPass`): the spilled ranges stay
    /// for `FeatureReaders.lookAgain`. `read`: called from the reader threads with the homes read
    /// so far, about every `chunkRows`, while the zips are counted in the pass.
    func startFeatureReaders<Chunk: Sendable>(_ db: Database, settings: FeatureSettings, workers: Int, chunkRows: Int,
                                              countZipsInPass: Bool = false, keepSpills: Bool = false,
                                              read: (@Sendable (Int) -> Void)? = nil,
                                              transform: @escaping @Sendable (FeatureTable) throws -> Chunk)
        throws -> FeatureReaders<Chunk> {
        var workerSettings = settings
        if workerSettings.dataEndDay == nil { workerSettings.dataEndDay = try Self.lastEventDay(in: db) }   // read once, not once a worker
        let readSettings = workerSettings
        // Each worker counts the zips of its share of the homes (`rangesPerWorker` consecutive
        // ranges joined), then takes ranges in turn, so that a worker that falls behind (a range of
        // homes with longer histories, a core the machine gives to someone else) does not keep the
        // other waiting: a 1M-home run's two readers finished up to 0.5 s apart with a share each.
        let ranges = try Self.propertyRanges(db, parts: max(1, workers) * Self.rangesPerWorker)
        let shareCount = min(max(1, workers), ranges.count)
        let shares = (0..<shareCount).map { worker in
            PropertyRange(lower: ranges[worker * ranges.count / shareCount].lower,
                          upper: ranges[(worker + 1) * ranges.count / shareCount - 1].upper)
        }
        let taken = Atomic<Int>(0), replayed = Atomic<Int>(0), homesRead = Atomic<Int>(0)
        let spills = SpillSlots(count: ranges.count)
        let queue = ChunkQueue<Chunk>(producers: shares.count, capacity: shares.count + 1)
        let zips = ZipBarrier(parts: shares.count, snapshots: settings.asOfDays.count)
        let begun = DispatchSemaphore(value: 0)
        for (worker, share) in shares.enumerated() {
            // A thread of its own, not `DispatchQueue.global().async`: GRDB's writer queue holds one
            // of the global pool's threads (as many as cores) for the whole run, so on 2 cores the
            // second reader waited for the pool to grow, 0.9 s of a 1M-home score run.
            Thread {
                var signalled = false
                do {
                    try self.read { readerDB in
                        // A small page cache: the pass reads sequentially, and the pool's 64 MiB a
                        // connection, twice, pushed a scoring run's peak from 195 to 374 MB.
                        try readerDB.execute(sql: "PRAGMA cache_size = -4096")
                        defer { try? readerDB.execute(sql: "PRAGMA cache_size = -65536") }
                        let builder = try FeatureBuilder(settings: readSettings, db: readerDB)   // the first read
                        begun.signal()
                        signalled = true
                        if countZipsInPass {
                            // Every range read and spilled, zips counted as the homes pass; then the sum,
                            // and the ranges' chunks with their zip rates, ranges again taken in turn.
                            builder.countZips = true
                            while case let part = taken.add(1, ordering: .relaxed).oldValue, part < ranges.count {
                                let spill = try SpilledChunks(reader: worker)
                                func flush() throws {
                                    let (chunk, rowZip) = builder.takeChunkWithoutZipRates()
                                    try spill.append(chunk, rowZip: rowZip)
                                }
                                var homes = 0
                                try builder.pass(range: ranges[part], progress: nil) {
                                    homes += 1
                                    if homes == chunkRows {
                                        read?(homesRead.add(homes, ordering: .relaxed).newValue)
                                        homes = 0
                                    }
                                    if builder.table.count >= chunkRows { try flush() }
                                }
                                try flush()
                                read?(homesRead.add(homes, ordering: .relaxed).newValue)
                                spills.set(part, spill)
                            }
                            let (counts, slots) = try zips.merge(builder.zips, part: worker)
                            while case let part = replayed.add(1, ordering: .relaxed).oldValue, part < ranges.count {
                                let spill = spills.take(part, keep: keepSpills)
                                try spill.forEach { chunk, rowZip in
                                    var chunk = chunk
                                    FeatureBuilder.fillZipRates(&chunk, rowZip: rowZip, zips: counts, slots: slots[spill.reader])
                                    try queue.put(try transform(chunk), part: part)
                                }
                            }
                        } else {
                            // Each reader counts the zips of its own homes, in parallel (3 snapshots at 1M
                            // homes: 3.4 s on one connection), then takes the sum.
                            try builder.countZipsBySQL(range: share)
                            builder.zips = try zips.merge(builder.zips, part: worker).total
                            while case let part = taken.add(1, ordering: .relaxed).oldValue, part < ranges.count {
                                try builder.stream(chunkRows: chunkRows, range: ranges[part]) { chunk in
                                    try queue.put(try transform(chunk), part: part)
                                }
                            }
                        }
                    }
                    queue.finish(nil)
                } catch {
                    zips.breakAll()
                    queue.finish(error)
                }
                if !signalled { begun.signal() }
            }.start()
        }
        for _ in shares { begun.wait() }
        return FeatureReaders(queue: queue, parts: ranges.count, spills: keepSpills ? spills : nil, zips: zips)
    }
}
