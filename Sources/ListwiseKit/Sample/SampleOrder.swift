// The order of a generated county's rows. County and MLS feeds arrive ordered by date, not by
// property, or in no order at all; the generator writes property by property. `listwise sample
// --order` rewrites events, owners and prospects in the order a benchmark needs, with a bucket
// sort through files beside the output (memory: one bucket, a month of events or 1/256 of a file).
import Foundation

public enum SampleOrder: String, CaseIterable, Sendable {
    /// Property by property, each property's rows by date (as generated).
    case property
    /// By date (events by event_date, owners by owner_since; prospects have no date: shuffled).
    case date
    /// In a random order (seeded).
    case shuffled
}

enum FileReorder {
    /// Rewrites the CSV at `path` (a header line, then lines without quoted newlines) with its
    /// data lines in `order`: by the ISO date in column `dateColumn` (ties in file order), or
    /// shuffled by `seed`. `.property` leaves the file as it is.
    static func reorder(path: String, order: SampleOrder, dateColumn: Int?, seed: UInt64) throws {
        guard order != .property else { return }
        let byDate = order == .date && dateColumn != nil
        var random = SampleRandom(seed: seed ^ 0x0DE5_0B1E)
        let bucketsFolder = path + ".buckets"
        try? FileManager.default.removeItem(atPath: bucketsFolder)
        try FileManager.default.createDirectory(atPath: bucketsFolder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: bucketsFolder) }
        func bucketPath(_ key: Int) -> String { (bucketsFolder as NSString).appendingPathComponent("\(key)") }

        // Pass 1: every line to its bucket (a month by date, or one of 256 at random).
        var pending: [Int: [UInt8]] = [:]
        func flush(_ key: Int) throws {
            guard let bytes = pending[key], !bytes.isEmpty else { return }
            let file = bucketPath(key)
            if !FileManager.default.fileExists(atPath: file) { _ = FileManager.default.createFile(atPath: file, contents: nil) }
            guard let handle = FileHandle(forWritingAtPath: file) else { throw ListwiseError.runtime("\(file): cannot write") }
            defer { try? handle.close() }
            _ = try handle.seekToEnd()
            try handle.write(contentsOf: bytes)
            pending[key] = []
        }
        var header: [UInt8]?
        try forEachLine(path) { line in
            guard header != nil else {
                header = Array(line)
                return
            }
            let key: Int
            if byDate, let column = dateColumn, let date = field(line, column), date.count >= 7 {
                // yyyy-mm as a number: buckets sort in date order.
                key = date.prefix(4).reduce(0) { $0 * 10 + Int($1) - 48 } * 12 + (Int(date[date.startIndex + 5]) - 48) * 10
                    + Int(date[date.startIndex + 6]) - 48
            } else {
                key = Int(random.next() % 256)
            }
            pending[key, default: []].append(contentsOf: line)
            pending[key]!.append(UInt8(ascii: "\n"))
            if pending[key]!.count >= 1 << 20 { try flush(key) }
        }
        for key in pending.keys { try flush(key) }

        // Pass 2: each bucket sorted (or shuffled) in memory, in bucket order.
        let output = try BufferedFile(path: path + ".reordered", header: String(decoding: header ?? [], as: UTF8.self))
        let keys = (try FileManager.default.contentsOfDirectory(atPath: bucketsFolder)).compactMap(Int.init).sorted()
        for key in keys {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: bucketPath(key))))
            var lines: [Range<Int>] = []
            var start = 0
            for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
                lines.append(start..<index)
                start = index + 1
            }
            if byDate, let column = dateColumn {
                let dates = lines.map { field(bytes[$0], column).map(Array.init) ?? [] }
                let order = lines.indices.sorted { a, b in
                    dates[a] == dates[b] ? a < b : dates[a].lexicographicallyPrecedes(dates[b])
                }
                lines = order.map { lines[$0] }
            } else {
                for index in stride(from: lines.count - 1, to: 0, by: -1) {
                    lines.swapAt(index, Int(random.next() % UInt64(index + 1)))
                }
            }
            for line in lines { output.line(bytes[line]) }
        }
        try output.close()
        guard rename(path + ".reordered", path) == 0 else {
            throw ListwiseError.runtime("\(path): cannot replace the file: \(String(cString: strerror(errno)))")
        }
    }

    /// Calls `body` with each line of the file (without its newline).
    private static func forEachLine(_ path: String, _ body: (ArraySlice<UInt8>) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ListwiseError.runtime("\(path): cannot read") }
        defer { try? handle.close() }
        var carry: [UInt8] = []
        while let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty {
            carry.append(contentsOf: chunk)
            var start = 0
            for index in carry.indices where carry[index] == UInt8(ascii: "\n") {
                try body(carry[start..<index])
                start = index + 1
            }
            carry.removeFirst(start)
        }
        if !carry.isEmpty { try body(carry[...]) }
    }

    /// The bytes of field `column` of a comma-separated line without quoted commas.
    private static func field(_ line: ArraySlice<UInt8>, _ column: Int) -> ArraySlice<UInt8>? {
        var current = 0, start = line.startIndex
        for index in line.indices where line[index] == UInt8(ascii: ",") {
            if current == column { return line[start..<index] }
            current += 1
            start = index + 1
        }
        return current == column ? line[start...] : nil
    }
}
