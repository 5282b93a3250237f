// API keys on the SQLite store (APIKeys.swift): made, listed, revoked, and found by a secret's hash.
import Foundation
import GRDB

extension AppDatabase {
    public func createAPIKey(name: String, scope: APIScope, territories: [String], allowedOrigins: [String],
                             now: Date) async throws -> NewAPIKey {
        let key = try await newAPIKey(name: name, scope: scope, territories: territories, allowedOrigins: allowedOrigins, now: now)
        let (secret, info) = (key.secret, key.info)
        try write { db in
            if let revoked = try Row.fetchOne(db, sql: "SELECT revoked_at FROM api_keys WHERE name = ?", arguments: [name]) {
                throw APIKeySecret.existing(name, revoked: revoked["revoked_at"] as String? != nil)
            }
            try db.execute(sql: """
                INSERT INTO api_keys (name, key_hash, scope, territories, allowed_origins, created_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [name, APIKeySecret.hash(secret), scope.rawValue, try StringList.json(territories),
                                 try StringList.json(allowedOrigins), info.createdAt])
        }
        return NewAPIKey(info: info, secret: secret)
    }

    public func apiKeys() async throws -> [APIKeyInfo] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY name").map(Self.apiKey) }
    }

    public func revokeAPIKey(named name: String, now: Date) async throws {
        try write { db in
            try db.execute(sql: "UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                           arguments: [Self.timestamp(now), name])
            if db.changesCount == 0 { throw APIKeySecret.noKey(name) }
        }
    }

    /// The active key whose secret is `secret`, if any.
    public func apiKey(secret: String) async throws -> APIKeyInfo? {
        // On the caller's thread by a cached statement: one row by key, read on every request.
        try read { db in
            guard let row = try Row.fetchOne(try db.cachedStatement(sql: "SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL"),
                                             arguments: [APIKeySecret.hash(secret)]),
                  APIKeySecret.matches(secret, storedHash: row["key_hash"]) else { return nil }
            return try Self.apiKey(row)
        }
    }

    private static func apiKey(_ row: Row) throws -> APIKeyInfo {
        // Read on every request: StringList.decode remembers each list it decoded.
        APIKeyInfo(name: row["name"], scope: APIScope(rawValue: row["scope"]) ?? .read,
                   territories: try StringList.decode(row["territories"]), allowedOrigins: try StringList.decode(row["allowed_origins"]),
                   createdAt: row["created_at"], revokedAt: row["revoked_at"])
    }
}
