// The PostgreSQL store on a real server (.ci/run starts one and sets LISTWISE_TEST_POSTGRES_URL):
// locations, migrations (once, also when two hosts start together), the distribution key of the
// home tables, and one clear line for each way of not reaching the server.
import Foundation
import Logging
import PostgresNIO
import XCTest
@testable import ListwiseKit

final class PostgresStoreTests: XCTestCase {
    /// The test server; a test that needs it and finds none fails (it does not skip).
    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["LISTWISE_TEST_POSTGRES_URL"], !url.isEmpty else {
            XCTFail("LISTWISE_TEST_POSTGRES_URL is not set: run the tests with 'bash .ci/run', which starts a PostgreSQL server")
            throw XCTSkip("no server")   // stops the test after the failure above
        }
        return url
    }

    /// A fresh, empty database on the test server, dropped after the test.
    func freshDatabase() async throws -> PostgresLocation { try await Self.freshDatabase(for: self) }

    static func freshDatabase(for test: XCTestCase) async throws -> PostgresLocation {
        let admin = try PostgresLocation(url: try serverURL())
        var location = admin
        location.database = "lw_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        let name = location.database
        try await onServer(admin) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Self.logger)
        }
        test.addTeardownBlock {
            try? await Self.onServer(admin) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: Self.logger)
            }
        }
        return location
    }

    static let logger = Logger(label: "listwise.tests")

    static func onServer(_ location: PostgresLocation, _ body: (PostgresConnection) async throws -> Void) async throws {
        let configuration = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user,
                                                             password: location.password, database: location.database, tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do { try await body(connection) } catch { try? await connection.close(); throw error }
        try await connection.close()
    }

    func testLocationsFromTheDbOption() throws {
        XCTAssertEqual(try StoreLocation("county.db"), .sqlite(path: "county.db"))
        guard case .postgres(let server) = try StoreLocation("postgresql://ann:p%40ss@db.example.com:6543/county?sslmode=require") else {
            return XCTFail("not a PostgreSQL location")
        }
        XCTAssertEqual([server.user, server.password, server.host, server.database], ["ann", "p@ss", "db.example.com", "county"])
        XCTAssertEqual(server.port, 6543)
        XCTAssertEqual(server.sslMode, .require)
        XCTAssertEqual(server.description, "postgresql://ann@db.example.com:6543/county", "no password in messages")
        guard case .postgres(let defaults) = try StoreLocation("postgres://ann@/county") else { return XCTFail() }
        XCTAssertEqual([defaults.host, String(defaults.port), defaults.sslMode.rawValue], ["localhost", "5432", "prefer"])
        for bad in ["postgresql://host/db", "postgresql://ann@host/", "postgresql://ann@host/db?sslmode=sometimes",
                    "postgresql://ann:secret@host/db?color=blue"] {
            XCTAssertThrowsError(try StoreLocation(bad), bad) { error in
                XCTAssertEqual((error as? ListwiseError)?.exitCode, 2, "\(error)")
                XCTAssertFalse("\(error)".contains("secret"), "the password is never printed: \(error)")
            }
        }
    }

    func testOpensMigratesOnceAndStartsEmpty() async throws {
        let location = try await freshDatabase()
        // Two hosts opening a new store at the same moment: one migrates, the other waits and finds it done.
        async let first = PostgresStore.open(location)
        async let second = PostgresStore.open(location)
        let stores = try await [first, second]
        let applied = [try await stores[0].appliedMigrations(), try await stores[1].appliedMigrations()]
        let all = PostgresSchema.migrations.map(\.0)
        XCTAssertEqual(all, ["v1-schema", "v2-drop-home-foreign-keys", "v3-api-keys", "v4-data-api", "v5-webhooks", "v6-campaign-holdouts"])
        XCTAssertEqual(applied, [all, all])
        let counts = try await stores[0].dataCounts()
        XCTAssertEqual(counts, DataCounts(properties: 0, owners: 0, prospects: 0, events: 0))
        for store in stores { await store.close() }
        let reopened = try await PostgresStore.open(location)
        let again = try await reopened.appliedMigrations()
        XCTAssertEqual(again, all)
        await reopened.close()
    }

    func testAPoolOfConnectionsAndNamedPreparedStatements() async throws {
        let location = try await freshDatabase()
        let store = try await PostgresStore.open(location, connections: 2)
        // Two leases at once are two server sessions, and a third waits for one of them.
        let pids = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try await store.withConnection { connection in
                        var pid = 0
                        for try await value in try await connection.query("SELECT pg_backend_pid() FROM pg_sleep(0.3)", logger: Self.logger)
                            .decode(Int.self) {
                            pid = value
                        }
                        return pid
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(Set(pids).count, 2, "\(pids)")
        // The repeated reads run as named prepared statements, prepared once a connection.
        for _ in 0..<3 { _ = try await store.dataCounts() }
        func preparedNames(_ connection: PostgresConnection) async throws -> [String] {
            var names: [String] = []
            for try await name in try await connection.query("SELECT name FROM pg_prepared_statements", logger: Self.logger).decode(String.self) {
                names.append(name)
            }
            return names
        }
        // Both connections at once, whichever ran the reads.
        let prepared = try await store.withConnection { first in
            try await store.withConnection { second in try await preparedNames(first) + preparedNames(second) }
        }
        XCTAssertTrue(prepared.contains { $0.contains("DataCountsStatement") }, "\(prepared)")
        await store.close()
    }

    func testHomeTablesArePartitionedByPropertyIDAndEveryKeyHoldsIt() async throws {
        let location = try await freshDatabase()
        let store = try await PostgresStore.open(location)
        addTeardownBlock { await store.close() }
        let homeTables = ["properties", "owners", "prospects", "events", "scores", "contact_history", "search_docs"]
        var partitioned: [String: String] = [:]
        for try await (table, key) in try await store.client.query("""
            SELECT c.relname::text, pg_get_partkeydef(c.oid) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
            """, logger: Self.logger).decode((String, String).self) {
            partitioned[table] = key
        }
        XCTAssertEqual(partitioned, Dictionary(uniqueKeysWithValues: homeTables.map { ($0, "HASH (property_id)") }))
        // Citus: every primary, unique and foreign key of a distributed table includes the distribution column.
        var keysWithout: [String] = []
        for try await (table, constraint, holds) in try await store.client.query("""
            SELECT c.relname::text, k.conname::text,
                   (SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'property_id') = ANY (k.conkey)
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
            WHERE k.contype IN ('p', 'u', 'f') AND c.relname = ANY (\(homeTables)) AND NOT (k.contype = 'f' AND k.confrelid IN
                  (SELECT oid FROM pg_class WHERE relname IN ('score_runs', 'exports')))
            """, logger: Self.logger).decode((String, String, Bool).self) where !holds {
            keysWithout.append("\(table).\(constraint)")
        }
        XCTAssertEqual(keysWithout, [], "keys of home tables without property_id (references to the small run tables are allowed)")
        var partitions = 0
        for try await count in try await store.client.query("""
            SELECT count(*)::int FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent WHERE c.relname = 'events'
            """, logger: Self.logger).decode(Int.self) {
            partitions = count
        }
        XCTAssertEqual(partitions, PostgresSchema.partitions)
        // References to properties are checked by the writers (v2: a foreign-key check a row was 6x the import).
        var references = 0
        for try await count in try await store.client.query("""
            SELECT count(*)::int FROM pg_constraint WHERE contype = 'f' AND confrelid = 'properties'::regclass
            """, logger: Self.logger).decode(Int.self) {
            references = count
        }
        XCTAssertEqual(references, 0)
    }

    /// The test server offers TLS with a self-signed certificate (.ci/postgres.sh): `require`
    /// and `prefer` encrypt, `disable` does not, and `verify-full` refuses the unknown
    /// certificate in one line.
    func testTLSIsWhatTheURLAsksFor() async throws {
        var location = try await freshDatabase()
        for (mode, encrypted) in [(PostgresLocation.SSLMode.require, true), (.prefer, true), (.disable, false)] {
            location.sslMode = mode
            let store = try await PostgresStore.open(location)
            var ssl: Bool?
            for try await value in try await store.client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                                                                   logger: Self.logger).decode(Bool.self) {
                ssl = value
            }
            await store.close()
            XCTAssertEqual(ssl, encrypted, "sslmode=\(mode.rawValue)")
        }
        location.sslMode = .verifyFull
        do {
            let store = try await PostgresStore.open(location)
            await store.close()
            XCTFail("a self-signed certificate passed verify-full")
        } catch let error as ListwiseError {
            XCTAssertEqual(error.exitCode, 2, error.description)
            XCTAssertFalse(error.description.contains("\n"), error.description)
            XCTAssertTrue(error.description.contains("certificate"), error.description)
        }
    }

    func testEveryWayOfNotReachingTheServerIsOneClearLine() async throws {
        let admin = try PostgresLocation(url: try Self.serverURL())
        func refusal(_ location: PostgresLocation) async -> String? {
            do {
                let store = try await PostgresStore.open(location)
                await store.close()
                return nil
            } catch {
                XCTAssertEqual((error as? ListwiseError)?.exitCode, 2, "\(error)")
                return "\(error)"
            }
        }
        var missing = admin
        missing.database = "no_such_database"
        let noDatabase = await refusal(missing)
        XCTAssertTrue(noDatabase?.contains("database 'no_such_database' does not exist: create it with 'createdb -h \(admin.host) -p \(admin.port) -U \(admin.user) no_such_database'") == true, noDatabase ?? "opened")

        var wrongPassword = admin
        wrongPassword.user = "listwise_secret"
        wrongPassword.password = "wrong"
        let refused = await refusal(wrongPassword)
        XCTAssertTrue(refused?.contains("the server refused user 'listwise_secret'") == true, refused ?? "opened")
        XCTAssertFalse(refused?.contains("wrong") == true, "no password in the message")
        // The right password on a database where that user may not create tables: the privilege is named.
        var secret = try await freshDatabase()
        secret.user = "listwise_secret"
        secret.password = "right"
        let unprivileged = await refusal(secret)
        XCTAssertTrue(unprivileged?.contains("user 'listwise_secret' lacks a privilege listwise needs (permission denied for schema public)") == true,
                      unprivileged ?? "opened")
        let owner = try PostgresLocation(url: try Self.serverURL())
        var granting = owner
        granting.database = secret.database
        try await Self.onServer(granting) { connection in
            try await connection.query("GRANT CREATE, USAGE ON SCHEMA public TO listwise_secret", logger: Self.logger)
        }
        let rightPassword = try await PostgresStore.open(secret)
        let applied = try await rightPassword.appliedMigrations()
        XCTAssertEqual(applied, PostgresSchema.migrations.map(\.0))
        await rightPassword.close()

        var nobodyListening = admin
        nobodyListening.port = try Self.closedPort()
        let unreachable = await refusal(nobodyListening)
        XCTAssertTrue(unreachable?.contains("cannot reach the PostgreSQL server") == true, unreachable ?? "opened")
        for message in [noDatabase, refused, unreachable, unprivileged] {
            XCTAssertEqual(message?.split(separator: "\n").count, 1, message ?? "")
        }
    }

    /// A loopback port nothing listens on.
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))   // bound, not listening: connections are refused
    }
}
