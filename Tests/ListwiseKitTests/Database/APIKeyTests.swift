// API keys on both stores: shown once, only the hash stored, found by the secret until revoked,
// and the same refusals (a taken name, an unknown territory, an origin that is not one).
import Foundation
import PostgresNIO
import XCTest
@testable import ListwiseKit

final class APIKeyTests: TemporaryFolderTestCase {
    func testKeysOnSQLite() async throws {
        let db = try makeDatabase()
        try importBaseProperties(db)
        try await checkKeys(on: db) { secret in
            try db.read { db in try String.fetchAll(db, sql: "SELECT name || key_hash || territories || allowed_origins FROM api_keys") }
                .contains { $0.contains(secret) }
        }
    }

    func testKeysOnPostgreSQL() async throws {
        let location = try await PostgresStoreTests.freshDatabase(for: self)
        let store = try await PostgresStore.open(location)
        addTeardownBlock { await store.close() }
        _ = try await store.importFile(try file("base-properties.csv", "property_id,address,city,state,zip\nP1,1 Main St,Oakland,CA,94610\n"),
                                       kind: .properties, options: ImportOptions(), progress: nil)
        try await checkKeys(on: store) { secret in
            var found = false
            for try await row in try await store.client.query("SELECT concat(name, key_hash, territories::text, allowed_origins::text) FROM api_keys",
                                                                logger: PostgresStoreTests.logger).decode(String.self) where row.contains(secret) {
                found = true
            }
            return found
        }
    }

    /// `storedAnywhere(secret)`: whether the secret appears in the stored rows.
    private func checkKeys(on store: any Store, storedAnywhere: (String) async throws -> Bool) async throws {
        _ = try await store.addTerritory(name: "east", definition: .zips(["94610"]))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let crm = try await store.createAPIKey(name: "crm", scope: .read, territories: ["east"], allowedOrigins: ["https://crm.example.com"], now: now)
        let ads = try await store.createAPIKey(name: "ads", scope: .export, territories: [], allowedOrigins: [], now: now)
        XCTAssertTrue(crm.secret.hasPrefix("lw_"))
        XCTAssertEqual(crm.secret.count, 67)
        XCTAssertNotEqual(crm.secret, ads.secret)
        let crmStored = try await storedAnywhere(crm.secret)
        XCTAssertFalse(crmStored, "only the hash is stored")

        let found = try await store.apiKey(secret: crm.secret)
        XCTAssertEqual(found, APIKeyInfo(name: "crm", scope: .read, territories: ["east"], allowedOrigins: ["https://crm.example.com"],
                                         createdAt: "2027-01-15T08:00:00.000Z", revokedAt: nil))
        let other = try await store.apiKey(secret: ads.secret)
        XCTAssertEqual(other?.scope, .export)
        // One character changed (not "dropLast() + \"0\"": that is the secret itself one time in 16).
        let wrong = try await store.apiKey(secret: crm.secret.dropLast() + (crm.secret.hasSuffix("0") ? "1" : "0"))
        XCTAssertNil(wrong)
        let listed = try await store.apiKeys()
        XCTAssertEqual(listed.map(\.name), ["ads", "crm"])

        // Refusals: one line, exit 2, nothing stored.
        for (attempt, expected) in [
            ({ try await store.createAPIKey(name: "crm", scope: .read, territories: [], allowedOrigins: [], now: now) }, "exists"),
            ({ try await store.createAPIKey(name: "x", scope: .read, territories: ["west"], allowedOrigins: [], now: now) }, "no territory 'west'"),
            ({ try await store.createAPIKey(name: "y", scope: .read, territories: [], allowedOrigins: ["crm.example.com"], now: now) }, "--allow-origin"),
            ({ try await store.createAPIKey(name: "has space", scope: .read, territories: [], allowedOrigins: [], now: now) }, "needs a name"),
        ] as [(() async throws -> NewAPIKey, String)] {
            do {
                _ = try await attempt()
                XCTFail("accepted: \(expected)")
            } catch let error as ListwiseError {
                XCTAssertEqual(error.exitCode, 2)
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
        let after = try await store.apiKeys()
        XCTAssertEqual(after.count, 2)

        // Revoked: the secret stops working at once; the name stays taken.
        try await store.revokeAPIKey(named: "crm", now: now)
        let revoked = try await store.apiKey(secret: crm.secret)
        XCTAssertNil(revoked)
        let listedAgain = try await store.apiKeys()
        XCTAssertEqual(listedAgain.first { $0.name == "crm" }?.revokedAt, "2027-01-15T08:00:00.000Z")
        do {
            try await store.revokeAPIKey(named: "crm", now: now)
            XCTFail("revoked twice")
        } catch let error as ListwiseError {
            XCTAssertTrue("\(error)".contains("no active API key"), "\(error)")
        }
        do {
            _ = try await store.createAPIKey(name: "crm", scope: .read, territories: [], allowedOrigins: [], now: now)
            XCTFail("a revoked name reused")
        } catch let error as ListwiseError {
            XCTAssertTrue("\(error)".contains("was revoked"), "\(error)")
        }
        let stillAds = try await store.apiKey(secret: ads.secret)
        XCTAssertEqual(stillAds?.name, "ads")
    }

    func testSecretMatchingAndHash() {
        let secret = "lw_" + String(repeating: "ab", count: 32)
        // SHA-256 of the secret, computed independently: printf %s SECRET | sha256sum
        XCTAssertEqual(APIKeySecret.hash(secret), "4751d9edab9efb8f0ebb78552b97b6e5c3f8111617201e6c3778ee89643f821c")
        XCTAssertTrue(APIKeySecret.matches(secret, storedHash: APIKeySecret.hash(secret)))
        XCTAssertFalse(APIKeySecret.matches(secret + "x", storedHash: APIKeySecret.hash(secret)))
        XCTAssertFalse(APIKeySecret.matches(secret, storedHash: "short"))
    }
}
