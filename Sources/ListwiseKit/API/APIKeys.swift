// API keys for the Data API (SPEC §8): `listwise apikey create|list|revoke`. A key is shown once
// when it is made; a store keeps only its SHA-256, so a copy of the database gives no key. A key
// has a scope (read, or export: also PII and exports), may be limited to territories, and names
// the origins that may embed its views.
import Crypto
import Foundation

public enum APIScope: String, CaseIterable, Codable, Sendable {
    case read, export
}

public struct APIKeyInfo: Equatable, Codable, Sendable {
    public var name: String
    public var scope: APIScope
    /// Empty: every territory.
    public var territories: [String]
    public var allowedOrigins: [String]
    public var createdAt: String
    public var revokedAt: String?
}

/// A key just made: its description, and the secret shown this once.
public struct NewAPIKey: Sendable {
    public var info: APIKeyInfo
    public var secret: String
}

extension Store {
    /// A key for `name` checked against the store's territories, its secret drawn; not stored yet.
    func newAPIKey(name: String, scope: APIScope, territories: [String], allowedOrigins: [String], now: Date) async throws -> NewAPIKey {
        let known = try await self.territories().map(\.name)
        try APIKeySecret.validate(name: name, territories: territories, allowedOrigins: allowedOrigins, known: known)
        let info = APIKeyInfo(name: name, scope: scope, territories: territories, allowedOrigins: allowedOrigins,
                              createdAt: AppDatabase.timestamp(now), revokedAt: nil)
        return NewAPIKey(info: info, secret: APIKeySecret.generate())
    }
}

enum APIKeySecret {
    /// `lw_` and 32 random bytes in hex (256 bits from the system's generator).
    static func generate() -> String { "lw_" + Hex.random(bytes: 32) }

    /// What a store keeps: the SHA-256 of the secret, in hex.
    static func hash(_ secret: String) -> String { Hex.string(SHA256.hash(data: Data(secret.utf8))) }

    /// Whether `secret` hashes to `storedHash`, compared in constant time.
    static func matches(_ secret: String, storedHash: String) -> Bool { Hex.constantTimeEqual(hash(secret), storedHash) }

    /// The checks a new key's settings pass on every store (usage errors, exit 2).
    static func validate(name: String, territories: [String], allowedOrigins: [String], known: [String]) throws {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw ListwiseError.usage("an API key needs a name of letters, digits, '-', '_' or '.' (got '\(name)')")
        }
        for territory in territories where !known.contains(territory) {
            throw ListwiseError.usage("no territory '\(territory)'" + (known.isEmpty ? " (none defined: use 'listwise territory add')" : " (known: \(known.joined(separator: ", ")))"))
        }
        for origin in allowedOrigins {
            guard let url = URL(string: origin), ["http", "https"].contains(url.scheme ?? ""), url.host != nil,
                  url.path.isEmpty || url.path == "/", url.query == nil else {
                throw ListwiseError.usage("--allow-origin \(origin): an origin is a scheme and host (and port), such as https://crm.example.com")
            }
        }
    }

    static func existing(_ name: String, revoked: Bool) -> ListwiseError {
        ListwiseError.usage(revoked ? "API key '\(name)' was revoked; give the new key another name"
                                    : "an API key named '\(name)' exists: revoke it first, or choose another name")
    }

    static func noKey(_ name: String) -> ListwiseError {
        ListwiseError.usage("no active API key named '\(name)': see 'listwise apikey list'")
    }
}
