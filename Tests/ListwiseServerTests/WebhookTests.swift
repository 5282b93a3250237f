// Webhooks end to end against a real HTTP receiver on a loopback port (Hummingbird, in this
// process): events written with what they report, signed deliveries that verify with the
// endpoint's secret only, retries with the same event id, a receiver down for the whole window,
// order per endpoint, refresh.failed, both stores, and a `listwise` process killed mid-delivery.
import Foundation
import HTTPTypes
import Hummingbird
import ListwiseKit
import Logging
import Synchronization
import XCTest
@testable import ListwiseWebhooks

/// A webhook receiver: records every request and answers the statuses of `answers` in turn
/// (200 when none are left); `hang` makes it wait before answering.
final class Receiver: Sendable {
    struct Hit: Sendable {
        var eventID: String
        var type: String
        var signature: String
        var body: String
    }

    let hits = Mutex<[Hit]>([])
    let answers = Mutex<[Int]>([])
    let hang = Mutex<Bool>(false)
    /// Posts that followed a redirect to /elsewhere (there must be none).
    let redirected = Mutex<Int>(0)
    private let task = Mutex<Task<Void, any Error>?>(nil)

    /// Starts listening; returns the URL to subscribe.
    func start() async throws -> String {
        let router = Router()
        router.post("elsewhere") { _, _ -> Response in
            self.redirected.withLock { $0 += 1 }
            return Response(status: .ok)
        }
        router.post("hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            self.hits.withLock {
                $0.append(Hit(eventID: request.headers[HTTPField.Name("Listwise-Event-Id")!] ?? "",
                              type: request.headers[HTTPField.Name("Listwise-Event-Type")!] ?? "",
                              signature: request.headers[HTTPField.Name("Listwise-Signature")!] ?? "", body: String(buffer: body)))
            }
            if self.hang.withLock({ $0 }) { try await Task.sleep(for: .seconds(60)) }
            let status = self.answers.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
            var headers = HTTPFields()
            if (300..<400).contains(status) { headers[.location] = "/elsewhere" }
            return Response(status: HTTPResponse.Status(code: status), headers: headers)
        }
        var logger = Logger(label: "receiver")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        task.withLock { $0 = Task { try await app.runService(gracefulShutdownSignals: []) } }
        for await port in ports { return "http://127.0.0.1:\(port)/hook" }
        throw XCTSkip("the receiver did not start")
    }

    func stop() async {
        let running = task.withLock { $0 }
        running?.cancel()
        _ = await running?.result
    }

    var received: [Hit] { hits.withLock { $0 } }
}

final class WebhookTests: ServerTestCase {
    var receivers: [Receiver] = []

    override func tearDown() async throws {
        for receiver in receivers { await receiver.stop() }
        try await super.tearDown()
    }

    func receiver() async throws -> (Receiver, String) {
        let receiver = Receiver()
        receivers.append(receiver)
        return (receiver, try await receiver.start())
    }

    var logger: Logger {
        var logger = Logger(label: "listwise.tests")
        logger.logLevel = .critical
        return logger
    }

    /// Retries in tens of milliseconds, a window of `window` seconds.
    func fastSchedule(window: TimeInterval = 30, timeout: TimeInterval = 2) -> RetrySchedule {
        var schedule = RetrySchedule()
        (schedule.initialDelay, schedule.maximumDelay, schedule.window, schedule.timeout) = (0.05, 0.2, window, timeout)
        return schedule
    }

    /// Delivery passes until `done` (at most 20 s).
    func deliver(_ store: any Store, schedule: RetrySchedule, until done: () async throws -> Bool) async throws {
        let deliverer = WebhookDeliverer(store: store, schedule: schedule, logger: logger)
        let deadline = Date().addingTimeInterval(20)
        while try await !done() {
            XCTAssertLessThan(Date(), deadline, "deliveries did not finish")
            if Date() > deadline { break }
            try await deliverer.deliverDue()
            try await Task.sleep(for: .milliseconds(20))
        }
        await deliverer.shutdown()
    }

    func importSample(_ store: any Store) async throws {
        for kind in ImportKind.importOrder {
            _ = try await store.importFile(repositoryRoot + "/Data/sample/\(kind.rawValue).csv", kind: kind, options: ImportOptions(), progress: nil)
        }
        _ = try await store.addTerritory(name: "east", definition: .zips(["94500", "94503"]))
        _ = try await store.addTerritory(name: "west", definition: .zips(["94506", "94509"]))
    }

    func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    // MARK: -

    func testScoreRunEventIsSignedWithTheEndpointsSecretAndFollowsItsTerritories() async throws {
        try await scoreRunEvent(on: try AppDatabase(path: path("hooks.db")))
    }

    func testScoreRunEventOnPostgreSQL() async throws {
        try await scoreRunEvent(on: try await openPostgres())
    }

    private func scoreRunEvent(on store: any Store) async throws {
        try await importSample(store)
        let (receiver, url) = try await receiver()
        let east = try await store.addWebhook(url: url, events: [.scoreRunCompleted], territories: ["east"], allowHTTP: true, now: Date())
        let all = try await store.addWebhook(url: url + "?all", events: [.scoreRunCompleted, .exportCompleted], territories: [],
                                             allowHTTP: true, now: Date())
        let summary = try await score(store, territory: "east")
        try await score(store, territory: "west")
        try await deliver(store, schedule: fastSchedule()) { receiver.received.count >= 3 }
        let hits = receiver.received
        XCTAssertEqual(hits.count, 3, "east's run to both endpoints, west's to the unrestricted one only")
        XCTAssertEqual(Set(hits.map(\.type)), ["score_run.completed"])

        let first = try XCTUnwrap(hits.first { $0.body.contains("\"territory\":\"east\"") && $0.signature.isEmpty == false })
        let body = try json(first.body)
        XCTAssertEqual(body["id"] as? String, first.eventID)
        XCTAssertTrue(first.eventID.hasPrefix("evt_"))
        XCTAssertEqual(body["type"] as? String, "score_run.completed")
        let data = try XCTUnwrap(body["data"] as? [String: Any])
        XCTAssertEqual(data["run_id"] as? Int, Int(summary.runID))
        XCTAssertEqual(data["homes"] as? Int, summary.rows)
        XCTAssertEqual(data["on_market"] as? Int, summary.onMarket)
        XCTAssertEqual(try XCTUnwrap(data["expected_listings"] as? Double), summary.expectedListings, accuracy: 0.05)
        XCTAssertEqual(data["as_of"] as? String, "2025-12-28")
        XCTAssertEqual((data["links"] as? [String: Any])?["scores"] as? String, "/v1/territories/east/scores?run=\(summary.runID)")

        // The signature verifies with the endpoint's secret, and with nothing else.
        let secrets = [east.secret, all.secret]
        XCTAssertTrue(secrets.contains { Webhooks.verify(header: first.signature, secret: $0, body: first.body, now: Date()) })
        XCTAssertFalse(Webhooks.verify(header: first.signature, secret: "whsec_" + String(repeating: "0", count: 64), body: first.body, now: Date()))
        for secret in secrets {
            XCTAssertFalse(Webhooks.verify(header: first.signature, secret: secret, body: first.body + " ", now: Date()), "a changed body")
            XCTAssertFalse(Webhooks.verify(header: first.signature, secret: secret, body: first.body, now: Date().addingTimeInterval(600)),
                           "an old timestamp (a replay)")
        }
        // Each endpoint's deliveries verify with its own secret only.
        for hit in hits {
            let valid = secrets.filter { Webhooks.verify(header: hit.signature, secret: $0, body: hit.body, now: Date()) }
            XCTAssertEqual(valid.count, 1, hit.body)
        }
        let deliveries = try await store.webhookDeliveries(failedOnly: false, limit: 10)
        XCTAssertEqual(deliveries.map(\.status), ["delivered", "delivered", "delivered"])
        let listed = try await store.webhooks()
        XCTAssertEqual(listed.map(\.id), [east.id, all.id])
        XCTAssertEqual(listed.map(\.pending), [0, 0])
    }

    /// An event commits with what it reports or not at all: an export whose file cannot be put
    /// in place records no history and queues no event; the next good one queues exactly one.
    func testAnExportThatFailsQueuesNoEvent() async throws {
        let store = try await sampleStore()
        let hook = try await store.addWebhook(url: "https://crm.example.com/hook", events: [.exportCompleted], territories: [],
                                              allowHTTP: false, now: Date())
        let settings = ExportSettings(campaign: "spring", channel: .mail, selection: .top(10), territory: "east")
        do {
            _ = try await store.export(settings, to: path("no-such-folder/list.csv")) { _ in }
            XCTFail("exported into a missing folder")
        } catch {}
        var listed = try await store.webhooks()
        XCTAssertEqual(listed.first { $0.id == hook.id }?.pending, 0)
        let none = try await store.exports(limit: 10)
        XCTAssertTrue(none.isEmpty)
        _ = try await store.export(settings, to: path("list.csv")) { _ in }
        listed = try await store.webhooks()
        XCTAssertEqual(listed.first { $0.id == hook.id }?.pending, 1)
        let due = try await store.dueDeliveries(now: Date())
        XCTAssertEqual(due.map(\.type), [.exportCompleted])
    }

    /// 500, 500, then 200: three posts of the same event id, the delivery ends delivered.
    func testAFailingReceiverGetsTheSameEventUntilItAnswers2xx() async throws {
        let store = try AppDatabase(path: path("hooks.db"))
        let (receiver, url) = try await receiver()
        receiver.answers.withLock { $0 = [500, 503] }
        let hook = try await store.addWebhook(url: url, events: [.refreshCompleted], territories: [], allowHTTP: true, now: Date())
        let eventID = try await store.queuePing(webhookID: hook.id, now: Date())
        try await deliver(store, schedule: fastSchedule()) {
            try await store.webhookDeliveries(failedOnly: false, limit: 1).first?.status == "delivered"
        }
        let hits = receiver.received
        XCTAssertEqual(hits.map(\.eventID), [eventID, eventID, eventID])
        XCTAssertEqual(Set(hits.map(\.body)).count, 1, "the same body on every retry")
        for hit in hits { XCTAssertTrue(Webhooks.verify(header: hit.signature, secret: hook.secret, body: hit.body, now: Date())) }
        let delivery = try await store.webhookDeliveries(failedOnly: false, limit: 1)[0]
        XCTAssertEqual(delivery.attempts, 3)
        XCTAssertEqual(delivery.lastStatus, 200)
        XCTAssertNil(delivery.nextAttemptAt)
    }

    /// A redirect is an answer that is not 2xx: never followed, retried like any failure.
    func testARedirectIsNotFollowedAndNotDelivered() async throws {
        let store = try AppDatabase(path: path("hooks.db"))
        let (receiver, url) = try await receiver()
        receiver.answers.withLock { $0 = [302, 301] }
        let hook = try await store.addWebhook(url: url, events: [.refreshCompleted], territories: [], allowHTTP: true, now: Date())
        _ = try await store.queuePing(webhookID: hook.id, now: Date())
        try await deliver(store, schedule: fastSchedule()) {
            try await store.webhookDeliveries(failedOnly: false, limit: 1).first?.status == "delivered"
        }
        XCTAssertEqual(receiver.received.count, 3, "302, 301, then 200 from the subscribed URL itself")
        XCTAssertEqual(receiver.redirected.withLock { $0 }, 0, "no redirect followed")
        let delivery = try await store.webhookDeliveries(failedOnly: false, limit: 1)[0]
        XCTAssertEqual(delivery.attempts, 3)
    }

    /// A receiver down for the whole window: the delivery ends failed, and the endpoint's next
    /// event waited behind it until then (order per endpoint).
    func testAReceiverDownForTheWholeWindowEndsFailedAndLaterEventsWaitTheirTurn() async throws {
        let store = try AppDatabase(path: path("hooks.db"))
        let hook = try await store.addWebhook(url: "http://127.0.0.1:1/hook", events: [.refreshCompleted], territories: [], allowHTTP: true,
                                              now: Date())
        let first = try await store.queuePing(webhookID: hook.id, now: Date())
        let second = try await store.queuePing(webhookID: hook.id, now: Date())
        let deliverer = WebhookDeliverer(store: store, schedule: fastSchedule(window: 0.5, timeout: 0.3), logger: logger)
        try await deliverer.deliverDue()
        var deliveries = try await store.webhookDeliveries(failedOnly: false, limit: 10)
        XCTAssertEqual(deliveries.first { $0.eventID == first }?.attempts, 1)
        XCTAssertEqual(deliveries.first { $0.eventID == second }?.attempts, 0, "the second event waits for the first")
        await deliverer.shutdown()
        try await deliver(store, schedule: fastSchedule(window: 0.5, timeout: 0.3)) {
            try await store.webhookDeliveries(failedOnly: true, limit: 10).count == 2
        }
        deliveries = try await store.webhookDeliveries(failedOnly: true, limit: 10)
        XCTAssertEqual(Set(deliveries.map(\.eventID)), [first, second])
        for delivery in deliveries {
            XCTAssertGreaterThan(delivery.attempts, 1)
            XCTAssertNotNil(delivery.lastError)
        }
        let listed = try await store.webhooks()
        XCTAssertEqual(listed.first?.failed, 2)
    }

    func testEventsGoInOrderPerEndpointAndARemovedEndpointGetsNothing() async throws {
        let store = try AppDatabase(path: path("hooks.db"))
        let (receiver, url) = try await receiver()
        let hook = try await store.addWebhook(url: url, events: [.refreshCompleted], territories: [], allowHTTP: true, now: Date())
        var ids: [String] = []
        for _ in 0..<5 { ids.append(try await store.queuePing(webhookID: hook.id, now: Date())) }
        try await deliver(store, schedule: fastSchedule()) { receiver.received.count >= 5 }
        XCTAssertEqual(receiver.received.map(\.eventID), ids)

        _ = try await store.queuePing(webhookID: hook.id, now: Date())
        try await store.removeWebhook(id: hook.id, now: Date())
        let deliverer = WebhookDeliverer(store: store, schedule: fastSchedule(), logger: logger)
        let pass = try await deliverer.deliverDue()
        await deliverer.shutdown()
        XCTAssertEqual(pass.attempts, 0)
        XCTAssertEqual(receiver.received.count, 5)
        let cancelled = try await store.webhookDeliveries(failedOnly: false, limit: 1)[0]
        XCTAssertEqual(cancelled.status, "cancelled")
        do {
            try await store.removeWebhook(id: hook.id, now: Date())
            XCTFail("removed twice")
        } catch let error as ListwiseError {
            XCTAssertEqual(error.exitCode, 2)
        }
    }

    func testARefreshThatFailsPostsRefreshFailed() async throws {
        let store = try AppDatabase(path: path("hooks.db"))
        let (receiver, url) = try await receiver()
        _ = try await store.addWebhook(url: url, events: [.refreshFailed, .refreshCompleted], territories: [], allowHTTP: true, now: Date())
        var settings = RefreshSettings(inbox: path("no-such-inbox"), asOfDay: DayNumber.parse("2025-12-28")!)
        settings.modelsFolder = path("no-models")
        do {
            _ = try await store.refresh(settings, logger: logger)
            XCTFail("refreshed without an inbox")
        } catch {}
        try await WebhookDeliverer.deliverPending(store: store, schedule: fastSchedule(), logger: logger)
        let hits = receiver.received
        XCTAssertEqual(hits.map(\.type), ["refresh.failed"])
        let data = try XCTUnwrap(try json(hits[0].body)["data"] as? [String: Any])
        XCTAssertEqual(data["status"] as? String, "failed")
        XCTAssertTrue((data["error"] as? String ?? "").contains("inbox folder does not exist"), "\(data)")
    }

    /// A refresh killed mid-run (its row left 'running') is reported failed by the next one.
    func testARefreshKilledMidRunIsReportedFailedByTheNextOne() async throws {
        let store = try AppDatabase(path: path("hooks.db"))
        let (receiver, url) = try await receiver()
        _ = try await store.addWebhook(url: url, events: [.refreshFailed], territories: [], allowHTTP: true, now: Date())
        let killed = try store.startRefreshRun(at: Date())
        let next = try store.startRefreshRun(at: Date())
        try store.finishRefreshRun(next, status: "ok", report: RefreshReport(), error: nil)
        try await WebhookDeliverer.deliverPending(store: store, schedule: fastSchedule(), logger: logger)
        let hits = receiver.received
        XCTAssertEqual(hits.map(\.type), ["refresh.failed"], "refresh.completed is not subscribed")
        let data = try XCTUnwrap(try json(hits[0].body)["data"] as? [String: Any])
        XCTAssertEqual(data["refresh_id"] as? Int, Int(killed))
        XCTAssertEqual(data["error"] as? String, "interrupted: the run was killed")
    }

    func testEndpointsAreCheckedWhenAdded() async throws {
        let store = try AppDatabase(path: path("hooks.db"))
        _ = try store.addTerritory(name: "east", definition: .zips(["94500"]))
        for (url, allowHTTP, territories, expected) in [
            ("http://crm.example.com/hook", false, [String](), "--allow-http"),
            ("ftp://crm.example.com/hook", true, [], "only http and https"),
            ("crm.example.com/hook", false, [], "not an absolute URL"),
            ("https://user:pw@crm.example.com/hook", false, [], "no user or password"),
            ("https://crm.example.com/hook", false, ["west"], "no territory 'west'"),
        ] {
            do {
                _ = try await store.addWebhook(url: url, events: [.refreshCompleted], territories: territories, allowHTTP: allowHTTP, now: Date())
                XCTFail("accepted \(url)")
            } catch let error as ListwiseError {
                XCTAssertEqual(error.exitCode, 2)
                XCTAssertTrue(error.description.contains(expected), error.description)
            }
        }
        XCTAssertThrowsError(try Webhooks.parseEvents("score_run.completed,score.done"))
        XCTAssertEqual(try Webhooks.parseEvents("refresh.failed, score_run.completed,refresh.failed"), [.refreshFailed, .scoreRunCompleted])
        let none = try await store.webhooks()
        XCTAssertTrue(none.isEmpty)
    }

    /// The signature against a value computed independently (Python's hmac, the scheme's
    /// reference: hmac.new(b"whsec_test", b"1700000000.{}", hashlib.sha256).hexdigest()).
    func testSignatureMatchesAnIndependentHMAC() {
        XCTAssertEqual(Webhooks.signature(secret: "whsec_test", timestamp: 1_700_000_000, body: "{}"),
                       "t=1700000000,v1=" + Self.pythonHMAC)
    }

    func testBackoffDoublesToItsCapWithJitterAndEndsAfterTheWindow() {
        let schedule = RetrySchedule()
        XCTAssertEqual((1...10).map { schedule.delay(afterAttempts: $0) }, [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600])
        let start = Date(timeIntervalSince1970: 0)
        XCTAssertEqual(schedule.afterFailure(attempts: 1, firstAttempt: start, now: start, status: 500, error: "answered 500", jitter: 0.5),
                       .retry(at: Date(timeIntervalSince1970: 5), status: 500, error: "answered 500"))
        let late = start.addingTimeInterval(24 * 3600 - 100)
        XCTAssertEqual(schedule.afterFailure(attempts: 30, firstAttempt: start, now: late, status: nil, error: "timed out", jitter: 1),
                       .failed(status: nil, error: "timed out"))
        // 32 attempts in 24 hours without jitter (more with it).
        var (attempts, now) = (1, start)
        while case .retry(let next, _, _) = schedule.afterFailure(attempts: attempts, firstAttempt: start, now: now, status: nil, error: "x", jitter: 1) {
            (attempts, now) = (attempts + 1, next)
        }
        XCTAssertEqual(attempts, 32)
    }

    /// `serve` delivers while it runs: an export made through the API reaches the receiver
    /// without any other command.
    func testServeDeliversWhileItRuns() async throws {
        let store = try await sampleStore()
        let (receiver, url) = try await receiver()
        let hook = try await store.addWebhook(url: url, events: [.exportCompleted], territories: ["east"], allowHTTP: true, now: Date())
        let api = try await startServer(store) { settings in
            settings.webhookCheckSeconds = 0.05
            settings.webhookSchedule = self.fastSchedule()
        }
        let key = try await key(store, "exporter", scope: .export)
        let body = try JSONSerialization.data(withJSONObject: ["campaign": "spring", "channel": "mail", "top": 5])
        let answer = try await api.send("POST", "/v1/territories/east/exports", key: key, body: body)
        XCTAssertEqual(answer.status, 200, answer.text)
        let deadline = Date().addingTimeInterval(20)
        while receiver.received.isEmpty, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let hit = try XCTUnwrap(receiver.received.first)
        XCTAssertEqual(hit.type, "export.completed")
        XCTAssertTrue(Webhooks.verify(header: hit.signature, secret: hook.secret, body: hit.body, now: Date()))
        let data = try XCTUnwrap(try json(hit.body)["data"] as? [String: Any])
        XCTAssertEqual(data["campaign"] as? String, "spring")
        XCTAssertEqual(data["territory"] as? String, "east")
        XCTAssertEqual(data["channel"] as? String, "mail")
        let exports = try await store.exports(limit: 1)
        XCTAssertEqual(data["export_id"] as? Int, exports.first.map { Int($0.id) })
        XCTAssertEqual(data["rows"] as? Int, exports.first?.rows)
    }

    /// `listwise webhook test` killed (SIGKILL) while its post waits for the receiver: nothing was
    /// recorded, so `listwise webhook deliver` posts the same event again and it ends delivered.
    func testAProcessKilledMidDeliveryDeliversAfterRestart() async throws {
        let (receiver, url) = try await receiver()
        receiver.hang.withLock { $0 = true }
        let db = path("cli.db")
        let added = try runListwise(["webhook", "add", url, "--events", "refresh.completed", "--allow-http", "--db", db])
        XCTAssertEqual(added.status, 0, added.stderr)
        let secret = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(secret.hasPrefix("whsec_"))

        let process = Process()
        process.executableURL = listwiseBinary
        process.arguments = ["webhook", "test", "1", "--db", db]
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while receiver.received.isEmpty, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        XCTAssertEqual(receiver.received.count, 1, "the ping reached the receiver")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)

        receiver.hang.withLock { $0 = false }
        let delivered = try runListwise(["webhook", "deliver", "--db", db])
        XCTAssertEqual(delivered.status, 0, delivered.stderr)
        let hits = receiver.received
        XCTAssertEqual(hits.count, 2)
        XCTAssertEqual(hits[0].eventID, hits[1].eventID, "the same event id after the restart")
        XCTAssertEqual(hits[1].type, "ping")
        XCTAssertTrue(Webhooks.verify(header: hits[1].signature, secret: secret, body: hits[1].body, now: Date()))
        let listed = try runListwise(["webhook", "deliveries", "--format", "json", "--db", db])
        let deliveries = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(deliveries.map { $0["status"] as? String }, ["delivered"])
        XCTAssertEqual(deliveries.first?["attempts"] as? Int, 1, "the killed attempt was never recorded")
        let failedOnly = try runListwise(["webhook", "deliveries", "--failed", "--db", db])
        XCTAssertEqual(failedOnly.stdout.split(separator: "\n").count, 1, "only the header: \(failedOnly.stdout)")
    }

    var listwiseBinary: URL {
        // XCTest bundles live in the build products folder, beside the executable.
        var url = Bundle(for: WebhookTests.self).bundleURL
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("listwise").path), url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("listwise")
    }

    func runListwise(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = listwiseBinary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    static let pythonHMAC = "35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
}
