// A score run's scores between the pass that makes them and the pass that ranks and writes them:
// appended to an unlinked temporary file, one per reader part, read back in the order written.
// (An SQLite temp table did this job: its inserts took ~0.5 s of the readers' cores and reading
// it back a share of the 1.7-2.2 s INSERT ... SELECT of a 1M-home run.)
import Foundation

/// Scores of one part of a run, in the order they were made: appended by `append`, read back
/// once by `forEach`. Memory: a buffer of `bufferBytes`; the rest is in the file.
final class StagedScores {
    private let file: SpillFile
    private var buffer: [UInt8] = []
    static let bufferBytes = 1 << 20
    private(set) var count = 0

    init() throws {
        file = try SpillFile(holding: "scores")
        buffer.reserveCapacity(Self.bufferBytes + 4096)
    }

    /// One home's score. Record: id length (UInt32) and bytes, probability bits (UInt64), on the
    /// market (UInt8), reason count (UInt8), each reason's length (UInt32) and bytes.
    func append(_ score: HomeScore) throws {
        var id = score.propertyID
        id.withUTF8 { appendBytes($0) }
        appendInteger(score.probability.bitPattern)
        buffer.append(score.onMarket ? 1 : 0)
        buffer.append(UInt8(min(score.reasons.count, 3)))
        for var reason in score.reasons.prefix(3) { reason.withUTF8 { appendBytes($0) } }
        count += 1
        if buffer.count >= Self.bufferBytes { try flush() }
    }

    private func appendInteger<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    private func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        appendInteger(UInt32(bytes.count))
        buffer.append(contentsOf: bytes)
    }

    private func flush() throws {
        try buffer.withUnsafeBytes { try file.append($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// One staged score as `forEach` hands it over: its bytes stay valid until `forEach` calls
    /// `beforeBytesMove`.
    struct Row {
        var id: UnsafeRawBufferPointer
        var probability: Double
        var onMarket: Bool
        var reasons: (UnsafeRawBufferPointer?, UnsafeRawBufferPointer?, UnsafeRawBufferPointer?)
    }

    /// Every staged score in the order appended; `body` gets its row number in the part. A row's
    /// bytes stay put until `beforeBytesMove` is called (before the buffer is refilled, and at
    /// the end, before it is freed).
    func forEach(beforeBytesMove: () throws -> Void = {}, _ body: (_ row: Int, _ score: Row) throws -> Void) throws {
        try flush()
        buffer = []
        var block = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferBytes, alignment: 8)
        defer { block.deallocate() }
        var start = 0, filled = 0, offset = 0
        /// Makes `need` bytes from `start` available: the rest moved down, more read after it.
        func ensure(_ need: Int) throws {
            guard filled - start < need else { return }
            try beforeBytesMove()
            if need > block.count {
                let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: need, alignment: 8)
                bigger.baseAddress!.copyMemory(from: block.baseAddress! + start, byteCount: filled - start)
                block.deallocate()
                block = bigger
            } else {
                block.baseAddress!.copyMemory(from: block.baseAddress! + start, byteCount: filled - start)
            }
            filled -= start
            start = 0
            let read = min(block.count - filled, file.size - offset)
            guard filled + read >= need else {
                throw ListwiseError.runtime("the staged scores end inside a record (\(file.size) bytes)")
            }
            try file.read(into: block.baseAddress! + filled, count: read, at: offset)
            offset += read
            filled += read
        }
        func length(at position: Int) -> Int {
            Int(UInt32(littleEndian: block.loadUnaligned(fromByteOffset: start + position, as: UInt32.self)))
        }
        for row in 0..<count {
            // The whole record in the block first: its byte ranges stay valid while `body` runs.
            try ensure(4)
            var need = 4 + length(at: 0) + 8 + 2
            try ensure(need)
            let reasonCount = Int(block[start + need - 1])
            for _ in 0..<reasonCount {
                try ensure(need + 4)
                need += 4 + length(at: need)
            }
            try ensure(need)
            let record = UnsafeRawPointer(block.baseAddress!) + start
            var position = 0
            func text() -> UnsafeRawBufferPointer {
                let count = Int(UInt32(littleEndian: record.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
                defer { position += 4 + count }
                return UnsafeRawBufferPointer(start: record + position + 4, count: count)
            }
            let id = text()
            let probability = Double(bitPattern: UInt64(littleEndian: record.loadUnaligned(fromByteOffset: position, as: UInt64.self)))
            let onMarket = record.load(fromByteOffset: position + 8, as: UInt8.self) != 0
            position += 10
            let first = reasonCount > 0 ? text() : nil
            let second = reasonCount > 1 ? text() : nil
            let third = reasonCount > 2 ? text() : nil
            start += need
            try body(row, Row(id: id, probability: probability, onMarket: onMarket, reasons: (first, second, third)))
        }
        try beforeBytesMove()
    }
}
