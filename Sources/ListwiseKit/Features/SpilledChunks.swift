// Feature chunks that wait for their zip rates: a pass that counts its zips as it goes (scoring)
// knows the rates only when every reader has read every home, so its chunks go to an unlinked
// temporary file until then and are read back in the order written, one at a time. (Counting
// the zips by SQL before the pass took 1.0-1.2 s of both cores of a 1M-home score run, reading
// every home a second time; the chunks' round trip through the page cache takes a fraction.)
import Foundation

/// Chunks of feature rows without their zip rates, with each row's zip slot in the counts of
/// the reader that made them (`reader`). Memory: the chunks' sizes; the rows are in the file.
/// Filled by one thread, then read by one thread at a time.
final class SpilledChunks: @unchecked Sendable {
    private struct Chunk {
        var offset: Int
        var rows: Int
        var idBytes: Int
        var hasOwnerHistory: Bool
        var dataEndDay: Int?
        var marketRateCarried: Bool
    }

    let reader: Int
    private let file: SpillFile
    private var chunks: [Chunk] = []

    init(reader: Int) throws {
        self.reader = reader
        file = try SpillFile(holding: "feature rows")
    }

    /// Rows and bytes of property ids over the chunks.
    var rows: Int { chunks.reduce(0) { $0 + $1.rows } }
    var idBytes: Int { chunks.reduce(0) { $0 + $1.idBytes } }

    /// Record of a chunk of n rows: snapshots (n Int32), labels (n Double), on the market (n
    /// bytes), each feature's values (n Double each, exact), zip slots (n Int32), id lengths (n
    /// UInt32), the ids' bytes.
    func append(_ table: FeatureTable, rowZip: [Int32]) throws {
        let n = table.count
        guard n > 0 else { return }
        precondition(rowZip.count == n && table.propertyIDs.count == n, "a chunk's columns of other lengths")
        var lengths: [UInt32] = []
        lengths.reserveCapacity(n)
        var ids: [UInt8] = []
        for var id in table.propertyIDs {
            id.withUTF8 { bytes in
                lengths.append(UInt32(bytes.count))
                ids.append(contentsOf: bytes)
            }
        }
        let offset = file.size
        try table.snapshot.withUnsafeBytes { try file.append($0) }
        try table.label.withUnsafeBytes { try file.append($0) }
        try table.onMarket.withUnsafeBytes { try file.append($0) }
        for column in table.values {
            precondition(column.count == n, "a feature column of another length")
            try column.withUnsafeBytes { try file.append($0) }
        }
        try rowZip.withUnsafeBytes { try file.append($0) }
        try lengths.withUnsafeBytes { try file.append($0) }
        try ids.withUnsafeBytes { try file.append($0) }
        chunks.append(Chunk(offset: offset, rows: n, idBytes: ids.count, hasOwnerHistory: table.hasOwnerHistory,
                            dataEndDay: table.dataEndDay, marketRateCarried: table.marketRateCarried))
    }

    /// Each chunk as appended (zip rates as the pass left them) with its rows' zip slots; without
    /// `ids`, its `propertyIDs` left empty (a second look, which has them: 1M Strings made for
    /// nothing).
    func forEach(ids withIDs: Bool = true, _ body: (_ table: FeatureTable, _ rowZip: [Int32]) throws -> Void) throws {
        for chunk in chunks {
            var offset = chunk.offset
            func read<T>(_ count: Int, _: T.Type) throws -> [T] {
                defer { offset += count * MemoryLayout<T>.stride }
                return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                    if count > 0 { try file.read(into: buffer.baseAddress!, count: count * MemoryLayout<T>.stride, at: offset) }
                    initialized = count
                }
            }
            let n = chunk.rows
            var table = FeatureTable()
            table.hasOwnerHistory = chunk.hasOwnerHistory
            table.dataEndDay = chunk.dataEndDay
            table.marketRateCarried = chunk.marketRateCarried
            table.snapshot = try read(n, Int32.self)
            table.label = try read(n, Double.self)
            table.onMarket = try read(n, Bool.self)
            for f in table.values.indices { table.values[f] = try read(n, Double.self) }
            let rowZip = try read(n, Int32.self)
            if withIDs {
                let lengths = try read(n, UInt32.self)
                let ids = try read(chunk.idBytes, UInt8.self)
                var start = 0
                table.propertyIDs = lengths.map { length in
                    defer { start += Int(length) }
                    return String(decoding: ids[start..<(start + Int(length))], as: UTF8.self)
                }
            }
            try body(table, rowZip)
        }
    }
}
