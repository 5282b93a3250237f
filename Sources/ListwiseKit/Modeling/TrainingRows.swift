// Training in bounded memory (issue 15): the rows of a training run live in temporary files,
// not on the heap. The feature pass streams its chunks into `TrainingRows` (raw features, one
// block per chunk); the design each fit needs is written once from them (`SpilledDesign`) and
// read back block by block by every pass of IRLS; a validation design is built block by block
// for its one use (`SpilledDesign.forEachBlock`). Memory then holds one byte of snapshot and
// label per row, the training labels (one byte each; as doubles for a logistic fit), one
// feature's values while its transform is learned, and a few blocks: measured in README
// (Training), 1M and 10M homes.
//
// The files are unlinked as soon as they are created: nothing is left behind by a crash or a
// kill. They go to the temporary directory (TMPDIR); reads come from the page cache, which the
// kernel may drop under pressure, unlike the heap.
import Crypto
import Foundation

/// Every row of a training run's snapshots, in the order of a one-thread feature pass: the raw
/// feature values in a spill file, one block per chunk of the pass, column-major (feature f of a
/// block's rows at `offset + f · rows · 8`, as doubles: exact); the snapshot and label of each
/// row in memory, one byte each. Chunks may come from several readers, each over a consecutive
/// range of property ids (`part`): the rows are part 0's, then part 1's, ...
final class TrainingRows {
    struct Block { var offset: Int; var first: Int; var rows: Int }
    private struct Part {
        var blocks: [Block] = []
        /// Index into the plan's as-of days.
        var snapshot: [UInt8] = []
        /// 0 or 1; 2 = not known (the horizon has not passed).
        var label: [UInt8] = []
    }

    private let file: SpillFile
    private var parts: [Part] = []
    private var sealed: Part?
    private(set) var hasOwnerHistory = false
    private(set) var marketRateCarried = false
    private var largestBlock = 0

    var count: Int { sealed?.snapshot.count ?? parts.reduce(0) { $0 + $1.snapshot.count } }
    /// The blocks in row order (`first`: the index of a block's first row).
    var blocks: [Block] { seal().blocks }

    init() throws { file = try SpillFile(holding: "training rows") }

    /// Adds a chunk of the feature pass made by reader `part` (its property ids are not kept).
    func append(_ chunk: FeatureTable, part: Int = 0) throws {
        precondition(sealed == nil, "rows added after they were read")
        hasOwnerHistory = chunk.hasOwnerHistory
        marketRateCarried = marketRateCarried || chunk.marketRateCarried
        guard chunk.count > 0 else { return }
        precondition(chunk.snapshot.allSatisfy { $0 >= 0 && $0 < 255 }, "more than 255 snapshots")
        while parts.count <= part { parts.append(Part()) }
        parts[part].blocks.append(Block(offset: file.size, first: parts[part].snapshot.count, rows: chunk.count))
        largestBlock = max(largestBlock, chunk.count)
        for column in chunk.values {
            precondition(column.count == chunk.count, "a feature column of another length")
            try column.withUnsafeBytes { try file.append($0) }
        }
        parts[part].snapshot.append(contentsOf: chunk.snapshot.lazy.map { UInt8($0) })
        parts[part].label.append(contentsOf: chunk.label.lazy.map { $0.isNaN ? 2 : ($0 == 1 ? 1 : 0) })
    }

    /// The parts joined in order (once: no rows may be added after).
    private func seal() -> Part {
        if let sealed { return sealed }
        var all = Part()
        for part in parts {
            let base = all.snapshot.count
            all.blocks += part.blocks.map { Block(offset: $0.offset, first: base + $0.first, rows: $0.rows) }
            all.snapshot += part.snapshot
            all.label += part.label
        }
        parts = []
        sealed = all
        return all
    }

    /// Which rows belong to the snapshots `snapshots` (indices into the as-of days).
    func mask(_ snapshots: [Int]) -> [Bool] {
        var chosen = [Bool](repeating: false, count: 256)
        for s in snapshots { chosen[s] = true }
        return seal().snapshot.map { chosen[Int($0)] }
    }

    /// The labels of the rows in `mask`, in row order (NaN where not known).
    func labels(_ mask: [Bool]) -> [Double] {
        labelBytes(mask).map { $0 == 2 ? .nan : Double($0) }
    }

    /// The labels of the rows in `mask`, in row order, one byte each: 0, 1, or 2 where not known.
    func labelBytes(_ mask: [Bool]) -> [UInt8] {
        zip(seal().label, mask).compactMap { value, chosen in chosen ? value : nil }
    }

    /// One feature's values on the rows in `mask`, in row order.
    func values(_ feature: RawFeature, _ mask: [Bool]) throws -> [Double] {
        var result: [Double] = []
        result.reserveCapacity(mask.lazy.filter { $0 }.count)
        let buffer = UnsafeMutablePointer<Double>.allocate(capacity: max(largestBlock, 1))
        defer { buffer.deallocate() }
        for block in seal().blocks {
            try file.read(into: buffer, count: block.rows * 8, at: block.offset + feature.rawValue * block.rows * 8)
            for i in 0..<block.rows where mask[block.first + i] { result.append(buffer[i]) }
        }
        return result
    }

    /// Each block's raw features (column-major, `RawFeature.allCases.count` columns of
    /// `block.rows` values), in order.
    func forEachBlock(_ body: (Block, UnsafePointer<Double>) throws -> Void) throws {
        let width = RawFeature.allCases.count
        let buffer = UnsafeMutablePointer<Double>.allocate(capacity: max(largestBlock, 1) * width)
        defer { buffer.deallocate() }
        for block in seal().blocks {
            try file.read(into: buffer, count: block.rows * width * 8, at: block.offset)
            try body(block, buffer)
        }
    }
}

/// The standardised design of the rows of `TrainingRows` in a mask, written once to a spill
/// file in blocks of `blockRows` rows (row-major) and read back by each pass of the fit. Its bytes are
/// those `DesignMatrix.build` gives for the same rows, so its fingerprint is the same.
struct SpilledDesign: DesignBlocks {
    let rows: Int
    let columns: Int
    let maxBlockRows: Int
    /// SHA-256 of the design and its labels (`DesignMatrix.fingerprint`).
    let fingerprint: String
    private let file: SpillFile

    var blockCount: Int { (rows + maxBlockRows - 1) / maxBlockRows }

    init(_ source: TrainingRows, mask: [Bool], labels: [Double], transforms: [FeatureTransform], blockRows: Int = 8192) throws {
        let file = try SpillFile(holding: "the training design")
        var hasher = SHA256()
        var total = 0
        let width = try Self.forEachBlock(of: source, mask: mask, transforms: transforms, blockRows: blockRows) { block in
            let bytes = UnsafeRawBufferPointer(start: block.base, count: block.rows * block.columns * 8)
            try file.append(bytes)
            hasher.update(bufferPointer: bytes)
            total += block.rows
        }
        precondition(total == labels.count, "design rows and labels differ")
        labels.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        rows = total
        columns = width
        maxBlockRows = max(1, blockRows)
        fingerprint = Hex.string(hasher.finalize())
        self.file = file
    }

    func withBlock(_ index: Int, buffer: UnsafeMutablePointer<Double>, _ body: (RowBlock, Int) throws -> Void) throws {
        let first = index * maxBlockRows, count = min(maxBlockRows, rows - first)
        try file.read(into: buffer, count: count * columns * 8, at: first * columns * 8)
        try body(RowBlock(base: buffer, rows: count, columns: columns), first)
    }

    /// The standardised design of the rows of `source` in `mask`, in row order, handed to `body`
    /// in blocks of `blockRows` rows (the last may be shorter), without keeping it: a spilled
    /// design writes them out, the validation metrics use them once. Returns the column count.
    @discardableResult
    static func forEachBlock(of source: TrainingRows, mask: [Bool], transforms: [FeatureTransform], blockRows: Int,
                             _ body: (RowBlock) throws -> Void) throws -> Int {
        let features = try DesignMatrix.features(transforms)
        let width = transforms.reduce(0) { $0 + $1.columns.count }
        let offsets = transforms.reduce(into: [0]) { $0.append($0.last! + $1.columns.count) }
        let blockRows = max(1, blockRows)
        let pending = UnsafeMutablePointer<Double>.allocate(capacity: blockRows * max(width, 1))
        defer { pending.deallocate() }
        var pendingRows = 0
        func flush() throws {
            guard pendingRows > 0 else { return }
            try body(RowBlock(base: pending, rows: pendingRows, columns: width))
            pendingRows = 0
        }
        var scratch: [Double] = []
        var chosen: [Int] = []
        try source.forEachBlock { block, raw in
            chosen.removeAll(keepingCapacity: true)
            for i in 0..<block.rows where mask[block.first + i] { chosen.append(i) }
            var next = 0
            while next < chosen.count {
                let take = min(blockRows - pendingRows, chosen.count - next)
                let target = pending + pendingRows * width
                for (f, (feature, transform)) in zip(features, transforms).enumerated() {
                    let column = raw + feature.rawValue * block.rows
                    for k in 0..<take {
                        transform.write(column[chosen[next + k]], into: target + k * width + offsets[f], scratch: &scratch)
                    }
                }
                pendingRows += take
                next += take
                if pendingRows == blockRows { try flush() }
            }
        }
        try flush()
        return width
    }
}
