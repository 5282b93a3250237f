// Webhooks on a PostgreSQL store (Webhooks.swift): the SQLite store's tables and queue with
// arrays for the subscriptions. Several hosts delivering from one store may post the same
// delivery twice (at least once; receivers deduplicate by event id): nothing claims it.
import Foundation
import PostgresNIO

extension PostgresStore {
    public func addWebhook(url: String, events: [WebhookEventType], territories: [String], allowHTTP: Bool,
                           now: Date) async throws -> NewWebhook {
        try Webhooks.validate(url: url, events: events, territories: territories, allowHTTP: allowHTTP,
                              known: try await self.territories().map(\.name))
        let secret = Webhooks.newSecret()
        for try await id in try await query("""
            INSERT INTO webhook_endpoints (url, secret, events, territories, created_at)
            VALUES (\(url), \(secret), \(events.map(\.rawValue)), \(territories), \(now)) RETURNING id
            """).decode(Int64.self) {
            return NewWebhook(id: id, secret: secret)
        }
        throw ListwiseError.runtime("\(location): no webhook id returned")
    }

    public func webhooks() async throws -> [WebhookEndpoint] {
        var all: [WebhookEndpoint] = []
        for try await (id, url, events, territories, createdAt, pending, failed) in try await query("""
            SELECT w.id, w.url, w.events, w.territories, \(unescaped: Self.timestampText("w.created_at")),
                   (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.status = 'pending'),
                   (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.status = 'failed')
            FROM webhook_endpoints w WHERE w.removed_at IS NULL ORDER BY w.id
            """).decode((Int64, String, [String], [String], String, Int, Int).self) {
            all.append(WebhookEndpoint(id: id, url: url, events: events.compactMap(WebhookEventType.init), territories: territories,
                                       createdAt: createdAt, pending: pending, failed: failed))
        }
        return all
    }

    public func removeWebhook(id: Int64, now: Date) async throws {
        try await inTransaction { connection in
            var removed = false
            for try await _ in try await connection.query("""
                UPDATE webhook_endpoints SET removed_at = \(now) WHERE id = \(id) AND removed_at IS NULL RETURNING id
                """, logger: logger).decode(Int64.self) {
                removed = true
            }
            guard removed else { throw Webhooks.noWebhook(id) }
            try await connection.query("UPDATE webhook_deliveries SET status = 'cancelled' WHERE endpoint_id = \(id) AND status = 'pending'",
                                       logger: logger)
        }
    }

    public func queuePing(webhookID: Int64, now: Date) async throws -> String {
        try await inTransaction { connection in
            var exists = false
            for try await _ in try await connection.query("SELECT id FROM webhook_endpoints WHERE id = \(webhookID) AND removed_at IS NULL",
                                                          logger: logger).decode(Int64.self) {
                exists = true
            }
            guard exists else { throw Webhooks.noWebhook(webhookID) }
            return try await recordEvent(.ping(endpointID: webhookID, now: now), on: connection, onlyEndpoint: webhookID, now: now)
        }
    }

    /// Writes `event` to the outbox with a pending delivery for every subscribed endpoint, in the
    /// transaction open on `connection`. Returns the event id.
    @discardableResult
    func recordEvent(_ event: WebhookEvent, on connection: PostgresConnection, onlyEndpoint: Int64? = nil, now: Date = Date()) async throws -> String {
        var seq: Int64 = 0
        for try await value in try await connection.query("""
            INSERT INTO webhook_events (id, type, territory, created_at, body)
            VALUES (\(event.id), \(event.type.rawValue), \(event.territory), \(event.createdAt)::timestamptz, \(event.body)) RETURNING seq
            """, logger: logger).decode(Int64.self) {
            seq = value
        }
        if let onlyEndpoint {
            try await connection.query("""
                INSERT INTO webhook_deliveries (endpoint_id, event_seq, status, next_attempt_at) VALUES (\(onlyEndpoint), \(seq), 'pending', \(now))
                """, logger: logger)
        } else {
            try await connection.query("""
                INSERT INTO webhook_deliveries (endpoint_id, event_seq, status, next_attempt_at)
                SELECT w.id, \(seq), 'pending', \(now) FROM webhook_endpoints w
                WHERE w.removed_at IS NULL AND \(event.type.rawValue) = ANY (w.events)
                  AND (\(event.territory)::text IS NULL OR cardinality(w.territories) = 0 OR \(event.territory)::text = ANY (w.territories))
                """, logger: logger)
        }
        return event.id
    }

    public func dueDeliveries(now: Date) async throws -> [DueDelivery] {
        var due: [DueDelivery] = []
        for try await (endpoint, seq, eventID, type, url, secret, body, attempts, first) in try await query("""
            SELECT d.endpoint_id, d.event_seq, e.id, e.type, w.url, w.secret, e.body, d.attempts, extract(epoch FROM d.first_attempt_at)::float8
            FROM (SELECT endpoint_id, min(event_seq) AS event_seq FROM webhook_deliveries WHERE status = 'pending' GROUP BY endpoint_id) head
            JOIN webhook_deliveries d ON d.endpoint_id = head.endpoint_id AND d.event_seq = head.event_seq
            JOIN webhook_events e ON e.seq = d.event_seq
            JOIN webhook_endpoints w ON w.id = d.endpoint_id
            WHERE d.next_attempt_at <= \(now)
            ORDER BY d.endpoint_id
            """).decode((Int64, Int64, String, String, String, String, String, Int, Double?).self) {
            due.append(DueDelivery(endpointID: endpoint, eventSeq: seq, eventID: eventID, type: WebhookEventType(rawValue: type) ?? .ping,
                                   url: url, secret: secret, body: body, attempts: attempts,
                                   firstAttemptAt: first.map(Date.init(timeIntervalSince1970:))))
        }
        return due
    }

    public func recordDeliveryAttempt(_ delivery: DueDelivery, outcome: DeliveryOutcome, at: Date) async throws {
        let (status, next, code, error) = outcome.stored(at: at)
        try await query("""
            UPDATE webhook_deliveries SET status = \(status), attempts = attempts + 1, next_attempt_at = \(next),
                   first_attempt_at = coalesce(first_attempt_at, \(at)), last_attempt_at = \(at), last_status = \(code), last_error = \(error)
            WHERE endpoint_id = \(delivery.endpointID) AND event_seq = \(delivery.eventSeq) AND status = 'pending'
            """)
    }

    public func webhookDeliveries(failedOnly: Bool, limit: Int) async throws -> [WebhookDeliveryInfo] {
        var all: [WebhookDeliveryInfo] = []
        var select = PostgresQuery(unsafeSQL: """
            SELECT d.endpoint_id, w.url, e.id, e.type, \(Self.timestampText("e.created_at")), d.status, d.attempts,
                   \(Self.timestampText("d.last_attempt_at")), d.last_status, d.last_error, \(Self.timestampText("d.next_attempt_at"))
            FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq JOIN webhook_endpoints w ON w.id = d.endpoint_id
            \(failedOnly ? "WHERE d.status = 'failed'" : "")
            ORDER BY d.event_seq DESC, d.endpoint_id LIMIT
            """)
        select.sql += " \(max(0, limit))"
        for try await (endpoint, url, eventID, type, created, status, attempts, last, lastStatus, lastError, next) in try await query(select)
            .decode((Int64, String, String, String, String, String, Int, String?, Int?, String?, String).self) {
            all.append(WebhookDeliveryInfo(webhookID: endpoint, url: url, eventID: eventID, type: type, eventCreatedAt: created, status: status,
                                           attempts: attempts, lastAttemptAt: last, lastStatus: lastStatus, lastError: lastError,
                                           nextAttemptAt: status == "pending" ? next : nil))
        }
        return all
    }
}
