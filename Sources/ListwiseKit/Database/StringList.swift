// Lists of names stored as JSON text arrays (SQLite has no array type; PostgreSQL's API keys
// keep them as jsonb): an API key's territories and origins, a webhook's events and territories.
import Foundation
import Synchronization

enum StringList {
    /// The list as a JSON array, slashes unescaped (as PostgreSQL's jsonb prints them).
    static func json(_ values: [String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(values), as: UTF8.self)
    }

    private static let decoded = Mutex<[String: [String]]>([:])

    /// The list stored as `text`. The server reads a key's lists on every request: no JSONDecoder
    /// for the common empty list, and each list decoded once (remembered by its text).
    static func decode(_ text: String) throws -> [String] {
        if text == "[]" { return [] }
        if let known = decoded.withLock({ $0[text] }) { return known }
        let list = try JSONDecoder().decode([String].self, from: Data(text.utf8))
        decoded.withLock { cache in
            if cache.count > 1000 { cache.removeAll() }
            cache[text] = list
        }
        return list
    }
}
