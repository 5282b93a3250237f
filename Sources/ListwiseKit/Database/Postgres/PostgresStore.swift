// The PostgreSQL store (SPEC §7): a PostgresClient pool of connections to a `postgresql://`
// location (a statement leases one for its run, a transaction or a session lock for its whole
// body), every way of failing to reach the server turned into one clear line, and the schema's
// migrations applied under an advisory lock (several hosts may start at once). Opening checks
// the server on a connection of its own first: a pool retries an unreachable server with backoff
// for a while, where a user wants the reason at once.
import Foundation
import Logging
import PostgresNIO
import _ConnectionPoolModule

public final class PostgresStore: Sendable {
    public let location: PostgresLocation
    let client: PostgresClient
    let logger: Logger
    /// The pool's background work (`PostgresClient.run`), cancelled by `close`.
    private let running: Task<Void, Never>

    /// The oldest server listwise runs on (hash partitioning with foreign keys, generated identities).
    public static let minimumServerVersion = 130_000
    /// The advisory lock key taken while migrating ("lw" "mg").
    static let migrationLockKey: Int64 = 0x6C77_6D67

    private init(location: PostgresLocation, configuration: PostgresClient.Configuration, logger: Logger) {
        self.location = location
        self.logger = logger
        // The pool's own log at errors only: it warns when a lease comes before `run()` has
        // started below (a race it resolves by queueing the lease), which a user need not see.
        var background = logger
        background.logLevel = .error
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        self.client = client
        running = Task { await client.run() }
    }

    /// Connects, checks the server, and migrates; then opens a pool of at most `connections`
    /// (a command uses one or two at a time; `serve` one a request in flight). Usage errors
    /// (exit 2) for an unreachable server, a refused login, a missing database or a server older
    /// than 13.
    public static func open(_ location: PostgresLocation, connections: Int = 8,
                            logger: Logger = Logger(label: "listwise.postgres")) async throws -> PostgresStore {
        let tls = try connectionTLS(location)
        let probe = try await connect(location, tls: tls, logger: logger)
        do {
            try await migrate(on: probe, logger: logger)
            try? await probe.close()
        } catch {
            try? await probe.close()
            throw describe(error, location: location)
        }
        var configuration = PostgresClient.Configuration(host: location.host, port: location.port, username: location.user,
                                                         password: location.password, database: location.database,
                                                         tls: clientTLS(location))
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.maximumConnections = max(2, connections)
        configuration.options.additionalStartupParameters = sessionSettings
        return PostgresStore(location: location, configuration: configuration, logger: logger)
    }

    /// Session settings for bulk work, sent when a connection starts: the import's staging tables
    /// stay in memory up to 128 MB, and no JIT compilation, which cost about a second a statement
    /// on the import's sorts and gained nothing.
    private static let sessionSettings = [("temp_buffers", "128MB"), ("jit", "off")]

    /// Closes the pool's connections.
    public func close() async {
        running.cancel()
        await running.value
    }

    /// Runs one statement on a leased connection (returned to the pool when the rows are read).
    @discardableResult
    func query(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        do {
            return try await client.query(query, logger: logger)
        } catch let error as ConnectionPoolError {
            throw describe(error)
        }
    }

    /// Runs `body` on one connection leased for its duration (a session lock, a cursor).
    func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection(body)
        } catch let error as ConnectionPoolError {
            throw describe(error)
        }
    }

    /// Identifiers of the applied migrations, in order.
    public func appliedMigrations() async throws -> [String] {
        var identifiers: [String] = []
        for try await identifier in try await query("SELECT identifier FROM listwise_migrations ORDER BY identifier").decode(String.self) {
            identifiers.append(identifier)
        }
        return identifiers
    }

    /// Counts of the four data tables.
    public func dataCounts() async throws -> DataCounts {
        for try await counts in try await client.execute(DataCountsStatement(), logger: logger) {
            return counts
        }
        throw ListwiseError.runtime("\(location): no answer to a count")
    }

    /// Runs `body` between `begin` (a BEGIN, with its isolation level) and COMMIT on a leased
    /// connection, rolling back when it throws. (postgres-nio's `withTransaction` wants a
    /// closure whose result it can send, which the progress closures and builders are not.)
    func inTransaction<T>(_ begin: String = "BEGIN", _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let logger = self.logger
        return try await withConnection { connection in
            try await connection.query(PostgresQuery(unsafeSQL: begin), logger: logger)
            do {
                let value = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    // MARK: - Migrations

    /// Applies the pending migrations in one transaction holding an advisory lock, so that two
    /// hosts starting together migrate once (the second waits, then finds nothing to do).
    private static func migrate(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS listwise_migrations (
                    identifier text PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
            var applied: Set<String> = []
            for try await identifier in try await connection.query("SELECT identifier FROM listwise_migrations", logger: logger)
                .decode(String.self) {
                applied.insert(identifier)
            }
            for (identifier, statements) in PostgresSchema.migrations where !applied.contains(identifier) {
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO listwise_migrations (identifier) VALUES (\(identifier))", logger: logger)
            }
        }
    }

    // MARK: - Connecting

    /// libpq's `require` and `prefer`: encrypted, the certificate not checked.
    private static var unverifiedTLS: TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        return tls
    }

    /// Connects, turning the ways of not reaching the server into clear errors, and checks the
    /// server's version.
    private static func connect(_ location: PostgresLocation, tls: PostgresConnection.Configuration.TLS,
                                logger: Logger) async throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user,
                                                             password: location.password, database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        } catch {
            throw describe(error, location: location)
        }
        var version = 0
        do {
            for try await number in try await connection.query("SELECT current_setting('server_version_num')::int", logger: logger)
                .decode(Int.self) {
                version = number
            }
        } catch {
            try? await connection.close()
            throw describe(error, location: location)
        }
        guard version >= minimumServerVersion else {
            try? await connection.close()
            throw ListwiseError.usage("\(location): PostgreSQL \(version / 10_000).\(version % 10_000) is too old: listwise needs PostgreSQL 13 or newer")
        }
        return connection
    }

    private static func connectionTLS(_ location: PostgresLocation) throws -> PostgresConnection.Configuration.TLS {
        switch location.sslMode {
        case .disable: return .disable
        case .prefer: return .prefer(try NIOSSLContext(configuration: unverifiedTLS))
        case .require: return .require(try NIOSSLContext(configuration: unverifiedTLS))
        case .verifyFull: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    /// The pool's TLS, as `connectionTLS`.
    private static func clientTLS(_ location: PostgresLocation) -> PostgresClient.Configuration.TLS {
        switch location.sslMode {
        case .disable: return .disable
        case .prefer: return .prefer(unverifiedTLS)
        case .require: return .require(unverifiedTLS)
        case .verifyFull: return .require(.makeClientConfiguration())
        }
    }

    func describe(_ error: any Error) -> any Error { Self.describe(error, location: location) }

    /// A PostgreSQL or connection error as one line a user can act on; anything else unchanged.
    static func describe(_ error: any Error, location: PostgresLocation) -> any Error {
        if let failed = error as? PostgresTransactionError,
           let inner = failed.beginError ?? failed.closureError ?? failed.commitError ?? failed.rollbackError {
            return describe(inner, location: location)
        }
        if let error = error as? ConnectionPoolError, error == .connectionCreationCircuitBreakerTripped {
            return ListwiseError.usage("\(location): cannot reach the PostgreSQL server (no connection succeeded for a while): is it running, and is the host and port right?")
        }
        guard let error = error as? PSQLError else { return error }
        let state = error.serverInfo?[.sqlState]
        let message = error.serverInfo?[.message] ?? ""
        switch state {
        case "3D000":
            return ListwiseError.usage("\(location): database '\(location.database)' does not exist: create it with 'createdb -h \(location.host) -p \(location.port) -U \(location.user) \(location.database)'")
        case "28P01", "28000":
            return ListwiseError.usage("\(location): the server refused user '\(location.user)': \(message)")
        case "42501":
            return ListwiseError.usage("\(location): user '\(location.user)' lacks a privilege listwise needs (\(message)): connect as the database's owner, or grant it (GRANT CREATE ON SCHEMA public TO \(location.user))")
        case "57P03":
            return ListwiseError.usage("\(location): the server is starting up or shutting down: try again in a moment")
        case .some:
            return ListwiseError.runtime("\(location): \(message) (SQLSTATE \(state!))")
        case nil:
            break
        }
        switch error.code {
        case .connectionError where error.underlying.map { "\($0)".contains("CERTIFICATE_VERIFY_FAILED") } ?? false:
            return ListwiseError.usage("\(location): the server's TLS certificate is not trusted (sslmode=verify-full checks it against the system's certificate authorities and the host name): install its authority, or use sslmode=require to encrypt without checking")
        case .connectionError, .serverClosedConnection, .clientClosedConnection:
            let reason = error.underlying.map { "\($0)" } ?? "connection failed"
            return ListwiseError.usage("\(location): cannot reach the PostgreSQL server (\(reason)): is it running, and is the host and port right?")
        case .sslUnsupported:
            return ListwiseError.usage("\(location): the server does not offer TLS, which sslmode=\(location.sslMode.rawValue) requires")
        case .authMechanismRequiresPassword:
            return ListwiseError.usage("\(location): the server wants a password for user '\(location.user)': put it in the URL (postgresql://user:password@host/db)")
        case .unsupportedAuthMechanism, .saslError:
            return ListwiseError.usage("\(location): the server refused user '\(location.user)' (\(error.code))")
        default:
            return ListwiseError.runtime("\(location): \(error.code)")
        }
    }
}
