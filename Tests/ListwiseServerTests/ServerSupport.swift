// Shared by the server tests: a scored sample county in a temporary folder, the server started on
// a free loopback port in this process, and a small HTTP client (URLSession) to call it.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ListwiseKit
import Logging
import PostgresNIO
import XCTest
@testable import ListwiseServer

/// The repository's root (for Data/sample and Models/).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

let sampleModel = repositoryRoot + "/Models/sample.json"

class ServerTestCase: XCTestCase {
    var folder: URL!
    var serverTask: Task<Void, any Error>?
    /// Run after the server stops, last added first (close a store, then drop its database).
    var cleanUps: [@Sendable () async -> Void] = []

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("listwise-server-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        serverTask?.cancel()
        _ = await serverTask?.result
        for cleanUp in cleanUps.reversed() { await cleanUp() }
        try? FileManager.default.removeItem(at: folder)
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// The sample county with two territories, east (94500, 94503) and west (94506, 94509), each
    /// scored once with the shipped model as of the sample's last day.
    func sampleStore(_ store: any Store) async throws -> any Store {
        for kind in ImportKind.importOrder {
            _ = try await store.importFile(repositoryRoot + "/Data/sample/\(kind.rawValue).csv", kind: kind, options: ImportOptions(), progress: nil)
        }
        _ = try await store.addTerritory(name: "east", definition: .zips(["94500", "94503"]))
        _ = try await store.addTerritory(name: "west", definition: .zips(["94506", "94509"]))
        for territory in ["east", "west"] { try await score(store, territory: territory) }
        return store
    }

    func sampleStore() async throws -> any Store {
        try await sampleStore(try AppDatabase(path: path("sample.db")))
    }

    @discardableResult
    func score(_ store: any Store, territory: String) async throws -> ScoreRunSummary {
        let model = try LikelyToSellModel.load(path: sampleModel)
        return try await store.score(model: model, settings: ScoreSettings(asOfDay: DayNumber.parse("2025-12-28")!, territory: territory,
                                                                           modelFile: sampleModel))
    }

    /// Starts the server on `store` on a free port; stopped at the end of the test.
    func startServer(_ store: any Store, rateLimit: Int = 0, configure: (inout ServeSettings) -> Void = { _ in }) async throws -> APIClient {
        var settings = ServeSettings()
        settings.port = 0
        settings.rateLimitPerSecond = rateLimit
        settings.modelsFolder = repositoryRoot + "/Models"
        configure(&settings)
        var logger = Logger(label: "listwise.tests")
        // Cancelling the server at the end of a test makes Hummingbird log errors about closed channels.
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        serverTask = Task { [settings, logger] in
            try await APIServer.run(store: store, settings: settings, logger: logger, handleSignals: false) { port in
                continuation.yield(port)
            }
        }
        for await port in ports { return APIClient(port: port) }
        throw XCTSkip("the server did not start")
    }

    func key(_ store: any Store, _ name: String, scope: APIScope = .read, territories: [String] = [], origins: [String] = []) async throws -> String {
        try await store.createAPIKey(name: name, scope: scope, territories: territories, allowedOrigins: origins, now: Date()).secret
    }
}

/// An answer: status, headers (lower-case names), body.
struct Answer {
    var status: Int
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw NSError(domain: "test", code: 1, userInfo: [NSLocalizedDescriptionKey: "not a JSON object: \(text)"])
        }
        return object
    }
}

struct APIClient {
    var port: Int
    let session = URLSession(configuration: .ephemeral)

    func get(_ path: String, key: String? = nil) async throws -> Answer {
        try await send("GET", path, key: key)
    }

    func send(_ method: String, _ path: String, key: String?, body: Data? = nil) async throws -> Answer {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields { headers["\(name)".lowercased()] = "\(value)" }
        return Answer(status: http.statusCode, headers: headers, body: data)
    }
}

// PostgreSQL for the tests that run on both stores.
extension ServerTestCase {
    /// A store on a fresh database, closed (after the server stops) at the end of the test.
    func openPostgres() async throws -> PostgresStore {
        let store = try await PostgresStore.open(try await freshPostgres())
        cleanUps.append { await store.close() }
        return store
    }

    /// A fresh database on the test server (LISTWISE_TEST_POSTGRES_URL, which .ci/run starts),
    /// dropped after the test; a missing server fails the test.
    func freshPostgres() async throws -> PostgresLocation {
        guard let url = ProcessInfo.processInfo.environment["LISTWISE_TEST_POSTGRES_URL"], !url.isEmpty else {
            XCTFail("LISTWISE_TEST_POSTGRES_URL is not set: run the tests with 'bash .ci/run', which starts a PostgreSQL server")
            throw XCTSkip("no server")
        }
        let admin = try PostgresLocation(url: url)
        var location = admin
        location.database = "lw_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        let name = location.database
        try await Self.onServer(admin) { try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Self.logger) }
        cleanUps.append {
            try? await Self.onServer(admin) {
                try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: Self.logger)
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
}
