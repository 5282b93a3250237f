// What the list commands print on stdout: text tables with padded columns, or one JSON document.
import Foundation

enum TextOutput {
    /// `text` filled with spaces to `width` characters (on the left when `right`).
    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }

    /// `value` as indented JSON with sorted snake_case keys, then a newline, on stdout.
    static func writeJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
    }
}
