// Byte-level string helpers for the export hot path. Foundation's trimmingCharacters and the
// Character-level uppercased/filter made a 100k-home mail export spend 2.2 s building rows and
// 1.9 s rendering CSV; these work on UTF-8 bytes with an ASCII fast path.
import Foundation

extension String {
    /// Without leading and trailing spaces and tabs (ASCII whitespace only).
    var trimmedSpaces: String {
        let bytes = utf8
        guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })!
        if first == bytes.startIndex, last == bytes.index(before: bytes.endIndex) { return self }
        return String(self[first...last])
    }

    /// Whether every byte is an ASCII digit (false for an empty string).
    var isASCIIDigits: Bool { !isEmpty && utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }

    var containsASCIIDigit: Bool { utf8.contains { $0 >= 0x30 && $0 <= 0x39 } }
}

/// An output buffer of UTF-8 bytes with RFC 4180 quoting.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 1 << 20) { bytes.reserveCapacity(capacity) }

    mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// The field, quoted when it holds a comma, a quote or a line end (quotes doubled).
    mutating func appendCSVField(_ field: String) {
        let utf8 = field.utf8
        guard utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else {
            bytes.append(contentsOf: utf8)
            return
        }
        bytes.append(0x22)
        for byte in utf8 {
            if byte == 0x22 { bytes.append(0x22) }
            bytes.append(byte)
        }
        bytes.append(0x22)
    }

    mutating func appendCSVRow(_ fields: [String]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { bytes.append(0x2C) }
            appendCSVField(field)
        }
        bytes.append(0x0A)
    }
}

/// JSON string literals, for the JSON-lines writers (exports, logs).
public enum JSONText {
    /// `value` as a quoted JSON string (quotes, backslashes and control characters escaped).
    public static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
