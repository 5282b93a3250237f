// Webhooks (SPEC §9): other systems subscribe to `refresh.completed`, `refresh.failed`,
// `score_run.completed`, `export.completed` (and `ping`). An event is written to the outbox in the
// same transaction as what it reports, with one pending delivery a subscribed endpoint; delivery
// is separate (ListwiseWebhooks), signed, retried with backoff for 24 hours, in event order per
// endpoint, at least once, with an event id that stays the same on every retry.
import Crypto
import Foundation

public enum WebhookEventType: String, CaseIterable, Codable, Sendable {
    case refreshCompleted = "refresh.completed"
    case refreshFailed = "refresh.failed"
    case scoreRunCompleted = "score_run.completed"
    case exportCompleted = "export.completed"
    case ping

    /// What `webhook add --events` accepts (ping goes to every endpoint by `webhook test` only).
    public static let subscribable: [WebhookEventType] = [.refreshCompleted, .refreshFailed, .scoreRunCompleted, .exportCompleted]
}

/// A subscribed URL. The secret is kept (it signs every delivery) but shown only when made.
public struct WebhookEndpoint: Equatable, Codable, Sendable {
    public var id: Int64
    public var url: String
    public var events: [WebhookEventType]
    /// Empty: every territory. Events without a territory (refreshes) go to every subscriber.
    public var territories: [String]
    public var createdAt: String
    /// Pending deliveries and the last outcome, for `webhook list`.
    public var pending: Int
    public var failed: Int
}

/// An endpoint just added: its id and the signing secret shown this once.
public struct NewWebhook: Sendable {
    public var id: Int64
    public var secret: String
}

/// One event as it goes into the outbox: its id (`evt_` and 16 random bytes in hex), type,
/// territory (for the endpoints' territory filter) and the JSON body every delivery posts.
public struct WebhookEvent: Sendable {
    public var id: String
    public var type: WebhookEventType
    public var territory: String?
    public var createdAt: String
    public var body: String

    /// `data` is the event's resource; the body is `{"id", "type", "created_at", "data"}` with
    /// sorted keys.
    init(type: WebhookEventType, territory: String?, now: Date, data: [String: JSONValue]) {
        id = "evt_" + Hex.random(bytes: 16)
        self.type = type
        self.territory = territory
        createdAt = AppDatabase.timestamp(now)
        body = JSONValue.object(["id": .string(id), "type": .string(type.rawValue), "created_at": .string(createdAt),
                                 "data": .object(data)]).text
    }

    static func scoreRun(_ summary: ScoreRunSummary, settings: ScoreSettings, now: Date) -> WebhookEvent {
        let modelFile = settings.modelFile
        var links: [String: JSONValue] = ["runs": .string("/v1/runs")]
        if let territory = settings.territory {
            links["scores"] = .string("/v1/territories/\(Webhooks.pathComponent(territory))/scores?run=\(summary.runID)")
            links["report"] = .string("/v1/territories/\(Webhooks.pathComponent(territory))/report.html?run=\(summary.runID)")
        }
        return WebhookEvent(type: .scoreRunCompleted, territory: settings.territory, now: now, data: [
            "run_id": .int(Int(summary.runID)), "territory": settings.territory.map(JSONValue.string) ?? .null,
            "as_of": .string(DayNumber.iso(settings.asOfDay)), "model_file": .string((modelFile as NSString).lastPathComponent),
            "homes": .int(summary.rows), "on_market": .int(summary.onMarket),
            "expected_listings": .double((summary.expectedListings * 10).rounded() / 10),
            "tiers": .object(summary.tierCounts.mapValues(JSONValue.int)), "links": .object(links),
        ])
    }

    static func export(_ export: PreparedExport, exportID: Int64, destination: String, now: Date) -> WebhookEvent {
        let territory = export.run.territory
        var data: [String: JSONValue] = [
            "export_id": .int(Int(exportID)), "campaign": .string(export.settings.campaign), "channel": .string(export.settings.channel.rawValue),
            "territory": territory.map(JSONValue.string) ?? .null, "run_id": .int(Int(export.summary.runID)),
            "selection": .string(export.settings.selection.description), "destination": .string(destination == "-" ? "stdout" : "file"),
            "rows": .int(export.summary.exportedRows), "prospects": .int(export.summary.exportedProspects),
            "links": .object(["exports": .string("/v1/exports"), "campaigns": .string("/v1/campaigns")]),
        ]
        if let holdout = export.summary.holdout {
            // The campaign's control group (SPEC §11): how many were set aside, not who.
            data["holdout"] = .object(["percent": .int(holdout.percent), "seed": .int(holdout.seed),
                                       "rows": .int(export.summary.heldOutRows), "prospects": .int(export.summary.heldOutProspects)])
        }
        return WebhookEvent(type: .exportCompleted, territory: territory, now: now, data: data)
    }

    static func refresh(id: Int64, status: String, report: RefreshReport, error: String?, now: Date) -> WebhookEvent {
        var data: [String: JSONValue] = [
            "refresh_id": .int(Int(id)), "status": .string(status),
            "processed": .array(report.processed.map(JSONValue.string)), "failed_files": .array(report.failed.keys.sorted().map(JSONValue.string)),
            "retrained": .bool(report.retrained), "model": report.model.map { .string(($0 as NSString).lastPathComponent) } ?? .null,
            "score_runs": .array(report.scoreRuns.map { .int(Int($0)) }), "links": .object(["runs": .string("/v1/runs")]),
        ]
        if let error { data["error"] = .string(error) }
        if let signals = report.campaignsBecameSignificant, !signals.isEmpty {
            data["campaigns_became_significant"] = .array(signals.map { .object(["campaign": .string($0.campaign), "verdict": .string($0.verdict)]) })
        }
        return WebhookEvent(type: status == "failed" ? .refreshFailed : .refreshCompleted, territory: nil, now: now, data: data)
    }

    static func ping(endpointID: Int64, now: Date) -> WebhookEvent {
        WebhookEvent(type: .ping, territory: nil, now: now, data: ["webhook_id": .int(Int(endpointID))])
    }
}

/// A delivery due now: the head of one endpoint's queue, with what signing and posting need.
public struct DueDelivery: Sendable {
    public var endpointID: Int64
    public var eventSeq: Int64
    public var eventID: String
    public var type: WebhookEventType
    public var url: String
    public var secret: String
    public var body: String
    /// Attempts made before this one.
    public var attempts: Int
    /// When the first attempt was made (the 24-hour window starts there); nil before it.
    public var firstAttemptAt: Date?
}

/// What became of one attempt.
public enum DeliveryOutcome: Sendable, Equatable {
    case delivered(status: Int)
    /// Tried again at `at` (a non-2xx status or an error).
    case retry(at: Date, status: Int?, error: String)
    /// The window is over: the delivery is given up.
    case failed(status: Int?, error: String)
}

extension DeliveryOutcome {
    /// What a store writes for an attempt made at `at`: the delivery's status, when it is next
    /// due (`at` once it is finished), the answer's HTTP status and the error.
    func stored(at: Date) -> (status: String, next: Date, httpStatus: Int?, error: String?) {
        switch self {
        case .delivered(let code): ("delivered", at, code, nil)
        case .retry(let next, let code, let error): ("pending", next, code, error)
        case .failed(let code, let error): ("failed", at, code, error)
        }
    }
}

/// One delivery as `webhook deliveries` shows it.
public struct WebhookDeliveryInfo: Equatable, Codable, Sendable {
    public var webhookID: Int64
    public var url: String
    public var eventID: String
    public var type: String
    public var eventCreatedAt: String
    /// pending, delivered, failed or cancelled (the endpoint was removed).
    public var status: String
    public var attempts: Int
    public var lastAttemptAt: String?
    public var lastStatus: Int?
    public var lastError: String?
    public var nextAttemptAt: String?
}

/// Retries: exponential backoff from `initialDelay`, doubling to at most `maximumDelay`, with
/// jitter (each delay drawn between half and all of it), for `window` seconds from the first
/// attempt; then the delivery is failed. Defaults: 10 s, 20 s, 40 s ... 1 h, for 24 hours
/// (32 attempts without jitter). Each attempt waits at most `timeout` for an answer.
public struct RetrySchedule: Sendable {
    public var initialDelay: TimeInterval = 10
    public var maximumDelay: TimeInterval = 3600
    public var window: TimeInterval = 24 * 3600
    public var timeout: TimeInterval = 10

    public init() {}

    /// The delay after the `attempts`-th failed attempt (1 after the first), before jitter.
    public func delay(afterAttempts attempts: Int) -> TimeInterval {
        min(maximumDelay, initialDelay * pow(2, Double(max(0, attempts - 1))))
    }

    /// The outcome of a failed attempt (`attempts` made, this one included).
    public func afterFailure(attempts: Int, firstAttempt: Date, now: Date, status: Int?, error: String,
                             jitter: Double = Double.random(in: 0.5...1)) -> DeliveryOutcome {
        let next = now.addingTimeInterval(delay(afterAttempts: attempts) * jitter)
        guard next.timeIntervalSince(firstAttempt) <= window else { return .failed(status: status, error: error) }
        return .retry(at: next, status: status, error: error)
    }
}

public enum Webhooks {
    /// `whsec_` and 32 random bytes in hex.
    static func newSecret() -> String { "whsec_" + Hex.random(bytes: 32) }

    /// `Listwise-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body" keyed by the secret>`
    /// (the scheme Stripe documents).
    public static func signature(secret: String, timestamp: Int, body: String) -> String {
        "t=\(timestamp),v1=\(hmacHex(secret: secret, message: "\(timestamp).\(body)"))"
    }

    static func hmacHex(secret: String, message: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Hex.string(mac)
    }

    /// What a receiver does: the header parsed, the timestamp within `tolerance` seconds of
    /// `now` (no replays), and some `v1` equal, in constant time, to the HMAC of `t.body`.
    public static func verify(header: String, secret: String, body: String, now: Date, tolerance: TimeInterval = 300) -> Bool {
        var timestamp: Int?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int(pair[1]) } else if pair[0] == "v1" { signatures.append(pair[1]) }
        }
        guard let timestamp, abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { return false }
        let expected = hmacHex(secret: secret, message: "\(timestamp).\(body)")
        return signatures.contains { Hex.constantTimeEqual($0, expected) }
    }

    /// The checks a new endpoint passes on every store (usage errors, exit 2): an absolute http(s)
    /// URL with a host, https unless `allowHTTP`, known event types and territories.
    static func validate(url: String, events: [WebhookEventType], territories: [String], allowHTTP: Bool, known: [String]) throws {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(), let host = parsed.host, !host.isEmpty else {
            throw ListwiseError.usage("webhook URL \(url): not an absolute URL such as https://crm.example.com/hooks/listwise")
        }
        guard scheme == "https" || scheme == "http" else {
            throw ListwiseError.usage("webhook URL \(url): only http and https URLs can receive webhooks")
        }
        if scheme == "http", !allowHTTP {
            throw ListwiseError.usage("webhook URL \(url): plain http sends events unencrypted: use https, or --allow-http (for loopback and tests)")
        }
        guard parsed.user == nil, parsed.password == nil else {
            throw ListwiseError.usage("webhook URL \(url): no user or password in the URL (the signature authenticates listwise)")
        }
        guard !events.isEmpty else { throw ListwiseError.usage("--events: name at least one event") }
        for territory in territories where !known.contains(territory) {
            throw ListwiseError.usage("no territory '\(territory)'" + (known.isEmpty ? " (none defined: use 'listwise territory add')" : " (known: \(known.joined(separator: ", ")))"))
        }
    }

    static func noWebhook(_ id: Int64) -> ListwiseError {
        .usage("no webhook \(id): see 'listwise webhook list'")
    }

    /// `--events a,b`: the types, or a usage error naming the unknown one.
    public static func parseEvents(_ text: String) throws -> [WebhookEventType] {
        var events: [WebhookEventType] = []
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let type = WebhookEventType(rawValue: name), WebhookEventType.subscribable.contains(type) else {
                throw ListwiseError.usage("--events: unknown event '\(name)' (known: \(WebhookEventType.subscribable.map(\.rawValue).joined(separator: ", ")))")
            }
            if !events.contains(type) { events.append(type) }
        }
        return events
    }

    static func pathComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? text
    }

}

/// A small JSON value, written with sorted keys (event bodies are made once and stored).
enum JSONValue: Sendable {
    case string(String), int(Int), double(Double), bool(Bool), null
    case array([JSONValue]), object([String: JSONValue])

    var text: String {
        switch self {
        case .string(let value):
            let encoder = JSONEncoder()
            encoder.outputFormatting = .withoutEscapingSlashes
            let data = (try? encoder.encode(value)) ?? Data("\"\"".utf8)
            return String(decoding: data, as: UTF8.self)
        case .int(let value): return String(value)
        case .double(let value): return value.isFinite ? "\(value)" : "null"
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .array(let values): return "[" + values.map(\.text).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.keys.sorted().map { JSONValue.string($0).text + ":" + members[$0]!.text }.joined(separator: ",") + "}"
        }
    }
}
