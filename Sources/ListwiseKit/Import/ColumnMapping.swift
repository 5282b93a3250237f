// Maps a vendor's column names to ours: `--mapping FILE` (YAML or JSON, `our_name: their_column`),
// then our names, then the RESO Data Dictionary aliases, all case-insensitive (SPEC §1).
import Foundation
import Yams

public struct ColumnMapping: Equatable, Sendable {
    /// our_name (lower-cased) → their column name.
    public let theirColumn: [String: String]

    public init(_ theirColumn: [String: String] = [:]) {
        var lowered: [String: String] = [:]
        for (ours, theirs) in theirColumn { lowered[ours.lowercased()] = theirs }
        self.theirColumn = lowered
    }

    /// Reads a mapping file. YAML is a superset of JSON, so one parser reads both.
    public static func load(path: String) throws -> ColumnMapping {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ListwiseError.usage("\(path): cannot read the mapping file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ListwiseError.usage("\(path): mapping file is not UTF-8 text")
        }
        let parsed: Any?
        do {
            parsed = try Yams.load(yaml: text)
        } catch {
            throw ListwiseError.usage("\(path): not valid YAML or JSON (\(Self.oneLine(error)))")
        }
        guard let dictionary = parsed as? [String: Any] else {
            throw ListwiseError.usage("\(path): mapping must be an object of our_name: their_column")
        }
        var entries: [String: String] = [:]
        let known = Set(ImportKind.allCases.flatMap { $0.columns.map(\.name) })
        for (ours, value) in dictionary {
            guard known.contains(ours.lowercased()) else {
                throw ListwiseError.usage("\(path): '\(ours)' is not a listwise column (known: \(known.sorted().joined(separator: ", ")))")
            }
            guard let theirs = value as? String, !theirs.isEmpty else {
                throw ListwiseError.usage("\(path): the column for '\(ours)' must be a non-empty string")
            }
            entries[ours] = theirs
        }
        return ColumnMapping(entries)
    }

    private static func oneLine(_ error: Error) -> String {
        String(describing: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "parse error"
    }

    /// Resolves each column of `kind` to its position in `header`.
    /// Throws a usage error naming the file for a missing required column or an unmatched mapping.
    func resolve(kind: ImportKind, header: [String], file: String) throws -> ResolvedColumns {
        let normalised = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var used = Set<Int>()
        var positions: [Int?] = []
        for spec in kind.columns {
            var position: Int?
            if let theirs = theirColumn[spec.name] {
                let matches = normalised.indices.filter { normalised[$0] == theirs.lowercased() }
                guard let first = matches.first else {
                    throw ListwiseError.usage("\(file): the mapping names column '\(theirs)' for \(spec.name), but the header has no such column")
                }
                position = first
            } else {
                for candidate in [spec.name, spec.alias].compactMap({ $0?.lowercased() }) {
                    let matches = normalised.indices.filter { normalised[$0] == candidate && !used.contains($0) }
                    if matches.count > 1 {
                        throw ListwiseError.usage("\(file): column '\(header[matches[1]])' appears more than once in the header")
                    }
                    if let first = matches.first { position = first; break }
                }
            }
            if let position { used.insert(position) }
            if spec.required && position == nil {
                let names = [spec.name, spec.alias].compactMap { $0 }.joined(separator: "' or '")
                throw ListwiseError.usage("\(file): missing required column '\(names)' for \(kind.rawValue) (header line 1)")
            }
            positions.append(position)
        }
        let unknown = header.indices.filter { !used.contains($0) }.map { header[$0] }
        return ResolvedColumns(positions: positions, unknown: unknown)
    }
}

/// The header position of each of a kind's columns (nil: not in the file).
struct ResolvedColumns {
    let positions: [Int?]
    let unknown: [String]
}
