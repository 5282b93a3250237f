// Imports one CSV file of SPEC §1 into its table: streaming, validating, idempotent upsert,
// one transaction, bad rows to a rejects file.
import Foundation

public struct ImportOptions: Sendable {
    public enum RejectsMode: Sendable { case replace, append }
    public var mapping = ColumnMapping()
    /// Where bad rows go; nil means `<input>.rejects.csv` beside the input.
    public var rejectsPath: String?
    /// `.replace` writes this file's rejects (removing a stale file when there are none);
    /// `.append` adds them to what is there (one rejects file for a folder import).
    public var rejectsMode: RejectsMode = .replace
    public var progressEveryRows = 50_000
    /// SQLite: out-of-order rows after which every property id is read into memory (RowLoader).
    var idSetAfterStagedRows = 10_000
    /// SQLite: the size of a sorted run of out-of-order rows (`StagedRows`); two are in memory.
    var stagingRunBytes = 32 << 20

    public init(mapping: ColumnMapping = ColumnMapping(), rejectsPath: String? = nil, rejectsMode: RejectsMode = .replace) {
        self.mapping = mapping
        self.rejectsPath = rejectsPath
        self.rejectsMode = rejectsMode
    }
}

public struct ImportProgress: Sendable {
    public var file: String
    public var rows: Int
    public var bytesRead: Int
    public var totalBytes: Int
    /// True while the rows that came out of key order are merged into the table in key order.
    public var sorting = false
}

public struct ImportSummary: Codable, Equatable, Sendable {
    public var file: String
    public var kind: ImportKind
    /// Data records read (the header and blank lines are not counted).
    public var rows: Int
    public var inserted: Int
    /// Existing keys whose values changed (including a key repeated inside the file).
    public var updated: Int
    /// Rows identical to what the database already held.
    public var unchanged: Int
    public var rejected: Int
    public var rejectedByReason: [String: Int]
    /// Header columns listwise does not use (ignored).
    public var unknownColumns: [String]
    public var rejectsFile: String?
    public var importID: Int64?
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case file, kind, rows, inserted, updated, unchanged, rejected
        case rejectedByReason = "rejected_by_reason", unknownColumns = "unknown_columns"
        case rejectsFile = "rejects_file", importID = "import_id", seconds
    }
}

/// An input file opened for import: its reader past the header, the kind, and the columns
/// resolved against the mapping (shared by the SQLite and PostgreSQL imports).
struct ImportSource {
    let reader: CSVReader
    let header: [String]
    let kind: ImportKind
    let resolved: ResolvedColumns

    /// Refuses (usage error, nothing imported) a file that cannot be read, is binary, has no
    /// header, a header that is not UTF-8, an unknown kind or a missing required column.
    init(path: String, kind: ImportKind?, mapping: ColumnMapping) throws {
        let reader: CSVReader
        do {
            reader = try CSVReader(path: path)
        } catch CSVReader.ReadError.cannotOpen(let reason) {
            throw ListwiseError.usage("\(path): cannot read: \(reason)")
        } catch CSVReader.ReadError.binary {
            throw ListwiseError.usage("\(path): not a CSV file (binary data)")
        }
        guard try Self.readRecord(reader, path: path) else {
            throw ListwiseError.usage("\(path): empty file (no header line)")
        }
        let headerBytes = reader.fields.indices.map { trimmed(reader.bytes($0)) }
        guard headerBytes.allSatisfy(isValidUTF8) else {
            throw ListwiseError.usage("\(path): not a CSV file (header line is not UTF-8 text)")
        }
        self.reader = reader
        let header = reader.fields.indices.map { reader.string($0).trimmingCharacters(in: .whitespaces) }
        self.header = header
        guard let kind = kind ?? ImportKind.detect(fileName: (path as NSString).lastPathComponent, header: header) else {
            throw ListwiseError.usage("\(path): cannot tell which kind of file this is; use 'listwise import KIND \(path)'")
        }
        self.kind = kind
        resolved = try mapping.resolve(kind: kind, header: header, file: path)
    }

    /// The next record; an unterminated quote refuses the whole file.
    static func readRecord(_ reader: CSVReader, path: String) throws -> Bool {
        do {
            return try reader.nextRecord()
        } catch CSVReader.ReadError.unterminatedQuote(let line) {
            throw ListwiseError.usage("\(path):\(line): a quoted field starting on this record is never closed; nothing was imported")
        } catch CSVReader.ReadError.cannotOpen(let reason) {
            throw ListwiseError.runtime("\(path): read failed: \(reason)")
        }
    }
}

/// Writes rejected rows (`file,line,column,value,reason`, SPEC §1) to a temporary file that
/// becomes the rejects file only when the import commits.
final class RejectsWriter {
    private let finalPath: String
    private let temporaryPath: String
    private let mode: ImportOptions.RejectsMode
    private var handle: FileHandle?
    private var pending = Data()
    private var count = 0

    init(finalPath: String, mode: ImportOptions.RejectsMode) throws {
        self.finalPath = finalPath
        self.temporaryPath = finalPath + ".partial-\(getpid())"
        self.mode = mode
    }

    private static let header = Data("file,line,column,value,reason\n".utf8)

    func write(file: String, line: Int, column: String, value: String, reason: RejectReason) throws {
        if handle == nil {
            // Rejected rows carry names, emails and phones: owner-only, like the database.
            guard FileManager.default.createFile(atPath: temporaryPath, contents: Self.header, attributes: [.posixPermissions: 0o600]),
                  let opened = FileHandle(forWritingAtPath: temporaryPath) else {
                throw ListwiseError.runtime("\(finalPath): cannot create the rejects file")
            }
            _ = try opened.seekToEnd()
            handle = opened
        }
        count += 1
        let fields = [file, String(line), column, value, reason.rawValue].map(csvQuoted)
        pending.append(contentsOf: Array((fields.joined(separator: ",") + "\n").utf8))
        if pending.count >= 1 << 16 { try flush() }
    }

    private func flush() throws {
        try handle?.write(contentsOf: pending)
        pending.removeAll(keepingCapacity: true)
    }

    /// Moves the rejects into place; returns the rejects file's path when it has rows.
    func commit() throws -> String? {
        let fileManager = FileManager.default
        guard count > 0 else {
            if mode == .replace, fileManager.fileExists(atPath: finalPath) { try? fileManager.removeItem(atPath: finalPath) }
            return nil
        }
        try flush()
        try handle?.close()
        handle = nil
        if mode == .append, let existing = FileHandle(forWritingAtPath: finalPath), try existing.seekToEnd() > 0 {
            defer { try? existing.close() }
            let body = try Data(contentsOf: URL(fileURLWithPath: temporaryPath)).dropFirst(Self.header.count)
            try existing.write(contentsOf: body)
            try? fileManager.removeItem(atPath: temporaryPath)
        } else {
            // rename(2) replaces the old file atomically.
            guard rename(temporaryPath, finalPath) == 0 else {
                throw ListwiseError.runtime("\(finalPath): cannot write the rejects file: \(String(cString: strerror(errno)))")
            }
        }
        return finalPath
    }

    /// Drops the rows written so far (the writer may start again).
    func discard() {
        try? handle?.close()
        handle = nil
        pending.removeAll()
        count = 0
        try? FileManager.default.removeItem(atPath: temporaryPath)
    }
}

/// RFC 4180 quoting for one output field.
func csvQuoted(_ field: String) -> String {
    guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
    return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// RFC 4180 quoting for other parts of listwise that write CSV.
public enum CSVField {
    public static func quoted(_ field: String) -> String { csvQuoted(field) }
}
