// Reads only the header line of a CSV file (to tell a file's kind before importing it).

public enum CSVHeader {
    /// The header's column names, or [] when the file cannot be read as CSV.
    public static func read(path: String) -> [String] {
        guard let reader = try? CSVReader(path: path, bufferSize: 1 << 16),
              (try? reader.nextRecord()) == true else { return [] }
        return reader.fields.indices.map { reader.string($0).trimmingCharacters(in: .whitespaces) }
    }
}
