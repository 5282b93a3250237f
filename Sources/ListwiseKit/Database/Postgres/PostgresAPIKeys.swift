// API keys on a PostgreSQL store (APIKeys.swift): the same rules as on SQLite.
import Foundation
import PostgresNIO

extension PostgresStore {
    public func createAPIKey(name: String, scope: APIScope, territories: [String], allowedOrigins: [String],
                             now: Date) async throws -> NewAPIKey {
        let key = try await newAPIKey(name: name, scope: scope, territories: territories, allowedOrigins: allowedOrigins, now: now)
        let (secret, info) = (key.secret, key.info)
        let territoriesJSON = try StringList.json(territories)
        let originsJSON = try StringList.json(allowedOrigins)
        do {
            var inserted = false
            for try await _ in try await query("""
                INSERT INTO api_keys (name, key_hash, scope, territories, allowed_origins, created_at)
                VALUES (\(name), \(APIKeySecret.hash(secret)), \(scope.rawValue), \(territoriesJSON)::jsonb, \(originsJSON)::jsonb, \(now))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """).decode(String.self) {
                inserted = true
            }
            if !inserted {
                var revoked = false
                for try await at in try await query("SELECT revoked_at IS NOT NULL FROM api_keys WHERE name = \(name)").decode(Bool.self) {
                    revoked = at
                }
                throw APIKeySecret.existing(name, revoked: revoked)
            }
        } catch let error as ListwiseError {
            throw error
        } catch {
            throw describe(error)
        }
        return NewAPIKey(info: info, secret: secret)
    }

    public func apiKeys() async throws -> [APIKeyInfo] {
        try await fetchAPIKeys(PostgresQuery(unsafeSQL: "ORDER BY name COLLATE \"C\"")).map(\.info)
    }

    public func revokeAPIKey(named name: String, now: Date) async throws {
        var revoked = false
        for try await _ in try await query("""
            UPDATE api_keys SET revoked_at = \(now) WHERE name = \(name) AND revoked_at IS NULL RETURNING name
            """).decode(String.self) {
            revoked = true
        }
        if !revoked { throw APIKeySecret.noKey(name) }
    }

    /// The active key whose secret is `secret`, if any.
    public func apiKey(secret: String) async throws -> APIKeyInfo? {
        let found = try await fetchAPIKeys("WHERE key_hash = \(APIKeySecret.hash(secret)) AND revoked_at IS NULL")
        return found.first { APIKeySecret.matches(secret, storedHash: $0.hash) }?.info
    }

    /// The keys `tail` (a WHERE and/or ORDER BY) selects, with their stored hashes.
    private func fetchAPIKeys(_ tail: PostgresQuery) async throws -> [(info: APIKeyInfo, hash: String)] {
        var select = PostgresQuery(unsafeSQL: """
            SELECT name, scope, territories::text, allowed_origins::text, \(Self.timestampText("created_at")),
                   \(Self.timestampText("revoked_at")), key_hash FROM api_keys
            """)
        select.sql += " " + tail.sql
        select.binds = tail.binds
        var keys: [(info: APIKeyInfo, hash: String)] = []
        let decode = { (text: String) in try JSONDecoder().decode([String].self, from: Data(text.utf8)) }
        for try await (name, scope, territories, origins, created, revoked, hash) in try await query(select)
            .decode((String, String, String, String, String, String?, String).self) {
            keys.append((APIKeyInfo(name: name, scope: APIScope(rawValue: scope) ?? .read, territories: try decode(territories),
                                    allowedOrigins: try decode(origins), createdAt: created, revokedAt: revoked), hash))
        }
        return keys
    }
}
