// `listwise import`: loads properties, owners, prospects or events CSV files (SPEC §1).
import ArgumentParser
import Foundation
import ListwiseKit

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import properties, owners, prospects or events from CSV.",
        discussion: """
            Reads CSV files (UTF-8, header row, RFC 4180). Writes the database (SQLite, or PostgreSQL through COPY and one upsert), one transaction per file, and a rejects file (file,line,column,value,reason) for bad rows. Streams: memory does not grow with the file. Re-importing a file changes nothing; a row with an existing key updates it.

            Examples:
              listwise import properties county/properties.csv --mapping vendor.yaml
              listwise import Data/sample     (a folder: properties, owners, prospects, events in that order)

            Exit codes: 0 imported (bad rows, if any, are in the rejects file); 2 a file was refused (not CSV, empty, missing a required column) and the database is unchanged; 1 any other failure.
            """
    )

    @Argument(help: ArgumentHelp("properties, owners, prospects or events; or a file or folder to detect from.",
                                 valueName: "kind-or-path"))
    var first: String

    @Argument(help: ArgumentHelp("The CSV file, or a folder of them.", valueName: "path"))
    var path: String?

    @Option(help: ArgumentHelp("YAML or JSON file mapping our column names to yours (our_name: their_column).",
                               valueName: "file"))
    var mapping: String?

    @Option(help: ArgumentHelp("Where rejected rows go (default: <input>.rejects.csv beside each input).",
                               valueName: "file"))
    var rejects: String?

    @Option(help: "Summary format: table (stderr) or json (one object per file on stdout).")
    var format: OutputFormat = .table

    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if path != nil, ImportKind(rawValue: first.lowercased()) == nil {
            throw ValidationError("'\(first)' is not a kind: use properties, owners, prospects or events")
        }
    }

    func run() async throws {
        let kind = path == nil ? nil : ImportKind(rawValue: first.lowercased())
        let target = path ?? first
        let columnMapping = try mapping.map(ColumnMapping.load(path:)) ?? ColumnMapping()

        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) else {
            throw ListwiseError.usage("\(target): no such file or folder")
        }
        let jobs: [(path: String, kind: ImportKind?)]
        if isDirectory.boolValue {
            guard kind == nil else { throw ListwiseError.usage("\(target) is a folder: give a file, or no kind") }
            jobs = try Self.folderFiles(target).map { ($0.path, $0.kind) }
        } else {
            jobs = [(target, kind)]
        }

        // The store first: a bad --db is refused before a rejects file is touched.
        try await database.withStore { store in
        if let rejects, FileManager.default.fileExists(atPath: rejects) {
            try FileManager.default.removeItem(atPath: rejects)
        }
        for job in jobs {
            let started = Date()
            let showProgress: (ImportProgress) -> Void = { progress in
                let percent = progress.totalBytes > 0 ? 100 * progress.bytesRead / progress.totalBytes : 100
                Terminal.progress("importing \(progress.file): \(progress.rows.grouped) rows (\(percent)%"
                                  + Terminal.rate(progress.rows, since: started, unit: " rows/s") + ")"
                                  + (progress.sorting ? ", merging the rows that came out of order into the table" : ""))
            }
            var options = ImportOptions(mapping: columnMapping, rejectsPath: rejects,
                                        rejectsMode: rejects == nil ? .replace : .append)
            options.progressEveryRows = 50_000
            let summary = try await store.importFile(job.path, kind: job.kind, options: options, progress: showProgress)
            Terminal.endProgress()
            report(summary)
        }
        }
    }

    /// The CSV files of a folder with their kinds, in import order; a file whose kind cannot be
    /// told is an error, not silently skipped.
    static func folderFiles(_ folder: String) throws -> [(path: String, kind: ImportKind)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.lowercased().hasSuffix(".csv") && !$0.lowercased().hasSuffix(".rejects.csv") }
            .sorted()
        var found: [(path: String, kind: ImportKind)] = []
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            guard let kind = ImportKind.detect(fileName: name, header: CSVHeader.read(path: path)) else {
                throw ListwiseError.usage("\(path): cannot tell which kind of file this is; import it with 'listwise import KIND FILE'")
            }
            found.append((path, kind))
        }
        guard !found.isEmpty else { throw ListwiseError.usage("\(folder): no CSV files to import") }
        return found.sorted { ImportKind.importOrder.firstIndex(of: $0.kind)! < ImportKind.importOrder.firstIndex(of: $1.kind)! }
    }

    private func report(_ summary: ImportSummary) {
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            if let data = try? encoder.encode(summary) {
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            }
        case .table:
            var text = "\(summary.file) (\(summary.kind.rawValue)): \(summary.rows.grouped) rows, "
                + "\(summary.inserted.grouped) inserted, \(summary.updated.grouped) updated, "
                + "\(summary.unchanged.grouped) unchanged, \(summary.rejected.grouped) rejected"
                + String(format: " in %.1f s", summary.seconds)
            if !summary.rejectedByReason.isEmpty {
                let reasons = summary.rejectedByReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                text += "\n  rejected by reason: " + reasons.joined(separator: ", ")
            }
            if let file = summary.rejectsFile { text += "\n  rejects: \(file)" }
            if !summary.unknownColumns.isEmpty {
                text += "\n  ignored unknown columns: " + summary.unknownColumns.joined(separator: ", ")
            }
            Terminal.line(text)
        }
    }
}
