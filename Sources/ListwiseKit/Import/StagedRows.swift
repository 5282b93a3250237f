// Rows that reach an import out of key order (a county feed ordered by date) wait here and go
// into the table at the end, in key order: written as they came, each would land on a random
// page of the (property, date)-keyed B-tree and the page cache would thrash (16.6M date-ordered
// events: 330-360 s against 56 s in property order).
//
// An external sort written for this job (issue 15): records are encoded as bytes into a run
// buffer; a full buffer is sorted by key on a second thread, while the import goes on filling
// the other buffer, and appended to an unlinked temporary file; at the end the runs are merged
// by key. It replaced an unindexed SQLite staging table sorted by `INSERT ... SELECT ... ORDER
// BY`: 1M homes' 16M date-ordered events spent 21 s writing the staging table and 21 s in the
// sorted insert, against 25 s for the whole import in property order; now 28.7 s (1.10x of
// property order, README, Input order). Swift's sort of 24-byte entries with a 16-byte key
// prefix keeps up with the reading on the other core.
import Foundation

/// One value of a record, as the importer's validation hands it over (`RecordSink`).
struct PendingField {
    enum Kind: UInt8 { case integer, double, text }
    var parameter: Int32
    var kind: Kind
    /// The integer, or the double's bit pattern.
    var bits: UInt64
    /// Text: its bytes, valid until the reader moves to the next record.
    var bytes: UnsafeRawPointer?
    var count: Int
}

/// Records sorted by key (the bytes of the key's first column), stable: rows of one key keep
/// their file order, so that the last one wins when they are written in merged order.
///
/// Memory: two run buffers of `runBytes` plus their sort entries (24 bytes a record), and a
/// read buffer of `mergeBufferBytes` per run while merging. A record is
///   UInt32 length of what follows · Int64 line · UInt16 key length · key bytes · fields,
/// a field: UInt16 parameter · UInt8 kind · 8 bytes (integer, double) or UInt32 count + bytes (text).
final class StagedRows: @unchecked Sendable {
    private final class Run: @unchecked Sendable {
        let capacity: Int
        var base: UnsafeMutableRawPointer
        var used = 0
        var entries: [Entry] = []
        init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(byteCount: capacity, alignment: 16)
        }
        deinit { base.deallocate() }
    }

    /// A record's place in a run with the first 16 bytes of its key, big-endian, for fast
    /// comparisons (property ids and prospect ids fit).
    struct Entry {
        var prefix0: UInt64
        var prefix1: UInt64
        var offset: Int
    }

    private let runBytes: Int
    private let mergeBufferBytes: Int
    private var filling: Run
    private var spare: Run
    private var file: SpillFile?
    /// Sorted runs written to `file`: offset and size.
    private var runs: [(offset: Int, size: Int)] = []
    private let sorter = DispatchQueue(label: "listwise.import.sort")
    private let sorting = DispatchGroup()
    private var sortError: (any Error)?
    private(set) var count = 0

    init(runBytes: Int = 32 << 20, mergeBufferBytes: Int = 256 << 10) {
        self.runBytes = runBytes
        self.mergeBufferBytes = mergeBufferBytes
        filling = Run(capacity: runBytes)
        spare = Run(capacity: runBytes)
    }

    /// Adds a record: its line in the file, its key, its fields.
    func append(line: Int, key: UnsafeRawBufferPointer, fields: UnsafeBufferPointer<PendingField>) throws {
        var size = 4 + 8 + 2 + key.count
        for field in fields { size += 3 + (field.kind == .text ? 4 + field.count : 8) }
        if filling.used + size > filling.capacity {
            if filling.used > 0 { try flush() }
            if size > filling.capacity { filling = Run(capacity: size) }
        }
        let start = filling.used
        var at = filling.base + start
        at.storeBytes(of: UInt32(size - 4), as: UInt32.self); at += 4
        at.storeBytes(of: Int64(line), as: Int64.self); at += 8
        at.storeBytes(of: UInt16(key.count), as: UInt16.self); at += 2
        if key.count > 0 { at.copyMemory(from: key.baseAddress!, byteCount: key.count) }
        at += key.count
        for field in fields {
            at.storeBytes(of: UInt16(field.parameter), as: UInt16.self)
            at.storeBytes(of: field.kind.rawValue, toByteOffset: 2, as: UInt8.self)
            at += 3
            if field.kind == .text {
                at.storeBytes(of: UInt32(field.count), as: UInt32.self)
                if field.count > 0 { (at + 4).copyMemory(from: field.bytes!, byteCount: field.count) }
                at += 4 + field.count
            } else {
                at.storeBytes(of: field.bits, as: UInt64.self)
                at += 8
            }
        }
        filling.used += size
        let (prefix0, prefix1) = Self.prefixes(UnsafeRawPointer(filling.base + start + 14), key.count)
        filling.entries.append(Entry(prefix0: prefix0, prefix1: prefix1, offset: start))
        count += 1
    }

    /// Hands the filled run to the sorting thread (after the previous one is written) and
    /// goes on with the other buffer.
    private func flush() throws {
        try waitForSort()
        if file == nil { file = try SpillFile(holding: "rows that came out of key order") }
        let run = filling, file = file!
        filling = spare
        spare = run
        sorting.enter()
        sorter.async { [self] in
            defer { sorting.leave() }
            do {
                Self.sort(run)
                let offset = file.size
                try Self.write(run, to: file)
                runs.append((offset, file.size - offset))
            } catch {
                sortError = error
            }
            run.used = 0
            run.entries.removeAll(keepingCapacity: true)
        }
    }

    private func waitForSort() throws {
        sorting.wait()
        if let sortError { throw sortError }
    }

    /// Calls `body` with every record in key order (then file order), once; the rows' memory
    /// and temporary file are released as it goes.
    func merge(_ body: (StagedRecord) throws -> Void) throws {
        try waitForSort()
        guard !runs.isEmpty else {
            // Everything fits one buffer: sorted in place, no file.
            Self.sort(filling)
            for entry in filling.entries {
                try body(StagedRecord(UnsafeRawPointer(filling.base + entry.offset)))
            }
            return
        }
        if filling.used > 0 {
            Self.sort(filling)
            let offset = file!.size
            try Self.write(filling, to: file!)
            runs.append((offset, file!.size - offset))
        }
        filling = Run(capacity: 0)
        spare = Run(capacity: 0)
        let cursors = try runs.map { try RunCursor(file: file!, offset: $0.offset, size: $0.size, bufferBytes: mergeBufferBytes) }
        // A binary heap of cursor indices, least key first; equal keys: the earlier run first.
        var heap = Array(cursors.indices)
        func precedes(_ a: Int, _ b: Int) -> Bool {
            let x = cursors[a], y = cursors[b]
            if x.prefix0 != y.prefix0 { return x.prefix0 < y.prefix0 }
            if x.prefix1 != y.prefix1 { return x.prefix1 < y.prefix1 }
            let order = Self.compareKeys(x.record, y.record)
            return order != 0 ? order < 0 : a < b
        }
        func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { return }
                var least = left
                if left + 1 < heap.count, precedes(heap[left + 1], heap[left]) { least = left + 1 }
                guard precedes(heap[least], heap[parent]) else { return }
                heap.swapAt(least, parent)
                parent = least
            }
        }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
        while let top = heap.first {
            let cursor = cursors[top]
            try body(StagedRecord(cursor.record))
            if try cursor.advance() {
                siftDown(0)
            } else {
                heap[0] = heap[heap.count - 1]
                heap.removeLast()
                siftDown(0)
            }
        }
        file = nil
        runs = []
    }

    // MARK: keys

    /// The first 16 bytes of a key, big-endian, zero-padded.
    @inline(__always)
    static func prefixes(_ key: UnsafeRawPointer, _ count: Int) -> (UInt64, UInt64) {
        var prefix0: UInt64 = 0, prefix1: UInt64 = 0
        for index in 0..<8 {
            prefix0 = prefix0 << 8 | (index < count ? UInt64(key.load(fromByteOffset: index, as: UInt8.self)) : 0)
        }
        for index in 8..<16 {
            prefix1 = prefix1 << 8 | (index < count ? UInt64(key.load(fromByteOffset: index, as: UInt8.self)) : 0)
        }
        return (prefix0, prefix1)
    }

    /// memcmp order of two records' keys, the shorter first when one is a prefix of the other
    /// (SQLite's BINARY collation).
    @inline(__always)
    static func compareKeys(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) -> Int32 {
        let countA = Int(a.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
        let countB = Int(b.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
        let order = memcmp(a + 14, b + 14, min(countA, countB))
        if order != 0 { return order }
        return countA == countB ? 0 : (countA < countB ? -1 : 1)
    }

    private static func sort(_ run: Run) {
        let base = UnsafeRawPointer(run.base)
        run.entries.sort { x, y in
            if x.prefix0 != y.prefix0 { return x.prefix0 < y.prefix0 }
            if x.prefix1 != y.prefix1 { return x.prefix1 < y.prefix1 }
            let order = compareKeys(base + x.offset, base + y.offset)
            return order != 0 ? order < 0 : x.offset < y.offset
        }
    }

    /// Appends a sorted run's records to `file` in entry order, through a 1 MB buffer.
    private static func write(_ run: Run, to file: SpillFile) throws {
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var used = 0
        for entry in run.entries {
            let record = run.base + entry.offset
            let size = 4 + Int(record.loadUnaligned(as: UInt32.self))
            if used + size > chunk {
                try file.append(UnsafeRawBufferPointer(start: buffer, count: used))
                used = 0
            }
            if size > chunk {
                try file.append(UnsafeRawBufferPointer(start: record, count: size))
            } else {
                (buffer + used).copyMemory(from: record, byteCount: size)
                used += size
            }
        }
        if used > 0 { try file.append(UnsafeRawBufferPointer(start: buffer, count: used)) }
    }
}

/// Reads one sorted run back from the spill file, a buffer at a time.
private final class RunCursor {
    private let file: SpillFile
    private var next: Int
    private let end: Int
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var filled = 0
    private var position = 0
    private(set) var prefix0: UInt64 = 0
    private(set) var prefix1: UInt64 = 0
    var record: UnsafeRawPointer { UnsafeRawPointer(buffer + position) }

    init(file: SpillFile, offset: Int, size: Int, bufferBytes: Int) throws {
        self.file = file
        next = offset
        end = offset + size
        capacity = bufferBytes
        buffer = .allocate(byteCount: capacity, alignment: 16)
        guard try load() else { throw ListwiseError.runtime("an empty sorted run in the import's temporary file") }
    }

    deinit { buffer.deallocate() }

    /// Moves to the next record; false at the end of the run.
    func advance() throws -> Bool {
        position += 4 + Int(record.loadUnaligned(as: UInt32.self))
        return try load()
    }

    /// Makes the record at `position` whole in the buffer, reading more of the run when needed.
    private func load() throws -> Bool {
        while true {
            let available = filled - position
            if available >= 4 {
                let size = 4 + Int(record.loadUnaligned(as: UInt32.self))
                if available >= size {
                    (prefix0, prefix1) = StagedRows.prefixes(record + 14, Int(record.loadUnaligned(fromByteOffset: 12, as: UInt16.self)))
                    return true
                }
                if size > capacity {
                    // A record longer than the buffer (a very long text field): grow.
                    let larger = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
                    larger.copyMemory(from: buffer + position, byteCount: available)
                    buffer.deallocate()
                    buffer = larger
                    capacity = size
                    position = 0
                    filled = available
                }
            }
            guard next < end else {
                if available > 0 { throw ListwiseError.runtime("a truncated record in the import's temporary file") }
                return false
            }
            // Keep the partial record at the front, read what follows it.
            if position > 0 {
                memmove(buffer, buffer + position, available)
                position = 0
                filled = available
            }
            let count = min(capacity - filled, end - next)
            try file.read(into: buffer + filled, count: count, at: next)
            next += count
            filled += count
        }
    }
}

/// One staged record, valid during the `merge` callback that hands it over.
struct StagedRecord {
    private let base: UnsafeRawPointer
    init(_ base: UnsafeRawPointer) { self.base = base }

    /// The record's line in the imported file.
    var line: Int { Int(base.loadUnaligned(fromByteOffset: 4, as: Int64.self)) }

    /// Binds every field to `statement` (whose bindings were cleared).
    func bind(to statement: RawStatement) {
        let end = base + 4 + Int(base.loadUnaligned(as: UInt32.self))
        var at = base + 14 + Int(base.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
        while at < end {
            let parameter = Int32(at.loadUnaligned(as: UInt16.self))
            let kind = PendingField.Kind(rawValue: at.load(fromByteOffset: 2, as: UInt8.self))!
            at += 3
            switch kind {
            case .integer:
                statement.bind(parameter, Int64(bitPattern: at.loadUnaligned(as: UInt64.self)))
                at += 8
            case .double:
                statement.bind(parameter, Double(bitPattern: at.loadUnaligned(as: UInt64.self)))
                at += 8
            case .text:
                let count = Int(at.loadUnaligned(as: UInt32.self))
                statement.bind(parameter, unsafeBytes: at + 4, count: count)
                at += 4 + count
            }
        }
    }
}
