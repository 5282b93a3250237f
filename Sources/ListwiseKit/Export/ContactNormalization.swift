// Emails, phones and names as the email tools and the ad platforms want them, and the SHA-256
// hashes of the ad-audience files (swift-crypto).
import Crypto
import Foundation

public enum ContactNormalization {
    /// Trimmed and lower-cased, when it is a syntactically valid address: one @, a local part
    /// of the RFC 5322 "dot-atom" characters without leading, trailing or doubled dots, a
    /// domain of at least two labels (letters, digits, inner hyphens) ending in a letter label.
    private static let localCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-.")

    public static func validEmail(_ raw: String?) -> String? {
        guard let raw else { return nil }
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last,
              (1...64).contains(local.count), (3...253).contains(domain.count) else { return nil }
        guard local.allSatisfy({ localCharacters.contains($0) }), !local.hasPrefix("."), !local.hasSuffix("."),
              !local.contains("..") else { return nil }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return nil }
        for label in labels {
            guard (1...63).contains(label.count), !label.hasPrefix("-"), !label.hasSuffix("-"),
                  label.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }) else { return nil }
        }
        guard labels.last!.count >= 2, labels.last!.allSatisfy(\.isLetter) else { return nil }
        return email
    }

    /// A US phone number as E.164 digits without the plus ("14155552671"): 10 digits get the
    /// country code 1, 11 digits must start with 1; anything else is not a usable number.
    public static func phoneDigits(_ raw: String?) -> String? {
        guard let raw else { return nil }
        let digits = raw.filter { $0.isASCII && $0.isNumber }
        if digits.count == 10, digits.first != "0", digits.first != "1" { return "1" + digits }
        if digits.count == 11, digits.first == "1" { return digits }
        return nil
    }

    /// A name for hashing: trimmed, lower-case, letters only (Meta: "no punctuation"; Google:
    /// no whitespace), keeping accented letters as UTF-8.
    public static func hashName(_ raw: String?) -> String {
        (raw ?? "").lowercased().filter { $0.isLetter }
    }

    /// Lower-case hex SHA-256 of the UTF-8 bytes.
    public static func sha256Hex(_ value: String) -> String {
        SHA256.hash(data: Data(value.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The hash of a normalised value, or "" for an empty one (the platforms want empty cells,
    /// not the hash of nothing).
    public static func hashed(_ normalised: String) -> String {
        normalised.isEmpty ? "" : sha256Hex(normalised)
    }
}
