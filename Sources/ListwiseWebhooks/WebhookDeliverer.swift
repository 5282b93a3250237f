// Delivers the outbox (SPEC §9): the head of each endpoint's queue is posted, signed
// (`Listwise-Signature`), with a timeout; a 2xx answer delivers it, anything else (a non-2xx
// status, a redirect, a timeout, a refused connection) schedules a retry with backoff and
// jitter until the 24-hour window ends, then the delivery fails and the next event of that
// endpoint goes. Endpoints are served side by side; within one endpoint, in event order.
// A process killed mid-post has recorded nothing: the delivery is posted again on the next
// pass (at least once; receivers deduplicate by the event id, the same on every retry).
import AsyncHTTPClient
import Foundation
import ListwiseKit
import Logging
import NIOCore
import NIOHTTP1

public final class WebhookDeliverer: Sendable {
    public let store: any Store
    public let schedule: RetrySchedule
    let client: HTTPClient
    let logger: Logger
    /// The clock (settable for tests).
    let now: @Sendable () -> Date

    public init(store: any Store, schedule: RetrySchedule = RetrySchedule(), logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.schedule = schedule
        self.logger = logger
        self.now = now
        // No redirects: a 3xx is an answer that is not 2xx (a moved endpoint is re-added, not followed).
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        let timeout = TimeAmount.milliseconds(Int64(schedule.timeout * 1000))
        configuration.timeout = .init(connect: timeout, read: timeout)
        configuration.connectionPool = .init(idleTimeout: .seconds(30))
        // A refused connection is an answer now (retried on our schedule), not retried by the
        // pool until the timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Stops the HTTP client (call once, when done).
    public func shutdown() async {
        try? await client.shutdown()
    }

    public struct PassSummary: Equatable, Sendable {
        public var delivered = 0
        public var retrying = 0
        public var failed = 0
        public var attempts: Int { delivered + retrying + failed }
    }

    /// Posts every delivery due now, endpoint by endpoint in parallel, until none is due (a
    /// delivered head lets the endpoint's next event go at once).
    @discardableResult
    public func deliverDue() async throws -> PassSummary {
        var summary = PassSummary()
        while true {
            let due = try await store.dueDeliveries(now: now())
            if due.isEmpty { return summary }
            let outcomes = try await withThrowingTaskGroup(of: DeliveryOutcome.self) { group in
                for delivery in due {
                    group.addTask { try await self.attempt(delivery) }
                }
                var outcomes: [DeliveryOutcome] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            // A delivered or failed head lets its endpoint's next event go now; retries wait.
            var queueMoved = false
            for outcome in outcomes {
                switch outcome {
                case .delivered: summary.delivered += 1; queueMoved = true
                case .retry: summary.retrying += 1
                case .failed: summary.failed += 1; queueMoved = true
                }
            }
            if !queueMoved { return summary }
        }
    }

    /// One POST of `delivery`, its outcome recorded.
    func attempt(_ delivery: DueDelivery) async throws -> DeliveryOutcome {
        let started = now()
        let timestamp = Int(started.timeIntervalSince1970)
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "listwise-webhooks/1")
        request.headers.add(name: "Listwise-Event-Id", value: delivery.eventID)
        request.headers.add(name: "Listwise-Event-Type", value: delivery.type.rawValue)
        request.headers.add(name: "Listwise-Signature", value: Webhooks.signature(secret: delivery.secret, timestamp: timestamp, body: delivery.body))
        request.body = .bytes(ByteBuffer(string: delivery.body))
        let outcome: DeliveryOutcome
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(schedule.timeout * 1000)))
            let status = Int(response.status.code)
            // The answer's body is not needed: read a little and drop it, so the connection is reused.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            outcome = (200..<300).contains(status) ? .delivered(status: status)
                : failure(delivery, started: started, ended: now(), status: status, error: "answered \(status)")
        } catch {
            // The next try is counted from the end of this one (a timeout took its 10 s).
            outcome = failure(delivery, started: started, ended: now(), status: nil, error: Self.describe(error))
        }
        try await store.recordDeliveryAttempt(delivery, outcome: outcome, at: started)
        log(delivery, outcome)
        return outcome
    }

    private func failure(_ delivery: DueDelivery, started: Date, ended: Date, status: Int?, error: String) -> DeliveryOutcome {
        schedule.afterFailure(attempts: delivery.attempts + 1, firstAttempt: delivery.firstAttemptAt ?? started, now: ended, status: status,
                              error: error)
    }

    private func log(_ delivery: DueDelivery, _ outcome: DeliveryOutcome) {
        var metadata: Logger.Metadata = ["webhook": "\(delivery.endpointID)", "event": "\(delivery.eventID)", "type": "\(delivery.type.rawValue)",
                                         "attempt": "\(delivery.attempts + 1)"]
        switch outcome {
        case .delivered(let status):
            metadata["status"] = "\(status)"
            logger.info("webhook delivered", metadata: metadata)
        case .retry(let at, _, let error):
            metadata["error"] = "\(error)"
            metadata["retry_at"] = "\(AppDatabase.timestamp(at))"
            logger.warning("webhook delivery failed, will retry", metadata: metadata)
        case .failed(_, let error):
            metadata["error"] = "\(error)"
            logger.error("webhook delivery given up after its retry window", metadata: metadata)
        }
    }

    static func describe(_ error: Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timed out"
            default: return "\(error)"
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return "timed out" }
        if let error = error as? IOError { return "cannot connect: " + String(cString: strerror(error.errnoCode)).lowercased() }
        return "\(error)"
    }
}

extension WebhookDeliverer {
    /// One pass over what is due, for a command that ends (`refresh`, `webhook deliver`): no HTTP
    /// client is made when nothing is due. A delivery that fails now is retried by a later pass.
    @discardableResult
    public static func deliverPending(store: any Store, schedule: RetrySchedule = RetrySchedule(), logger: Logger) async throws -> PassSummary {
        guard try await !store.dueDeliveries(now: Date()).isEmpty else { return PassSummary() }
        let deliverer = WebhookDeliverer(store: store, schedule: schedule, logger: logger)
        do {
            let summary = try await deliverer.deliverDue()
            await deliverer.shutdown()
            return summary
        } catch {
            await deliverer.shutdown()
            throw error
        }
    }
}
