// Webhooks on the SQLite store (Webhooks.swift): endpoints, the outbox written inside the
// transactions of what it reports, and the deliveries' queue, head first per endpoint.
import Foundation
import GRDB

extension AppDatabase {
    public func addWebhook(url: String, events: [WebhookEventType], territories: [String], allowHTTP: Bool,
                           now: Date) async throws -> NewWebhook {
        try Webhooks.validate(url: url, events: events, territories: territories, allowHTTP: allowHTTP,
                              known: try self.territories().map(\.name))
        let secret = Webhooks.newSecret()
        let id = try write { db -> Int64 in
            try db.execute(sql: "INSERT INTO webhook_endpoints (url, secret, events, territories, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [url, secret, try StringList.json(events.map(\.rawValue)), try StringList.json(territories),
                                       Self.timestamp(now)])
            return db.lastInsertedRowID
        }
        return NewWebhook(id: id, secret: secret)
    }

    public func webhooks() async throws -> [WebhookEndpoint] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT w.id, w.url, w.events, w.territories, w.created_at,
                       (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.status = 'pending') AS pending,
                       (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.status = 'failed') AS failed
                FROM webhook_endpoints w WHERE w.removed_at IS NULL ORDER BY w.id
                """).map { row in
                WebhookEndpoint(id: row["id"], url: row["url"], events: try StringList.decode(row["events"]).compactMap(WebhookEventType.init),
                                territories: try StringList.decode(row["territories"]), createdAt: row["created_at"],
                                pending: row["pending"], failed: row["failed"])
            }
        }
    }

    public func removeWebhook(id: Int64, now: Date) async throws {
        try write { db in
            try db.execute(sql: "UPDATE webhook_endpoints SET removed_at = ? WHERE id = ? AND removed_at IS NULL", arguments: [Self.timestamp(now), id])
            guard db.changesCount > 0 else { throw Webhooks.noWebhook(id) }
            try db.execute(sql: "UPDATE webhook_deliveries SET status = 'cancelled' WHERE endpoint_id = ? AND status = 'pending'", arguments: [id])
        }
    }

    public func queuePing(webhookID: Int64, now: Date) async throws -> String {
        try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ? AND removed_at IS NULL)",
                                    arguments: [webhookID]) == true else { throw Webhooks.noWebhook(webhookID) }
            return try Self.recordEvent(.ping(endpointID: webhookID, now: now), db, onlyEndpoint: webhookID, now: now)
        }
    }

    /// Writes `event` to the outbox, with a pending delivery due now for every endpoint that
    /// subscribes to its type (and its territory, when the endpoint names territories), in the
    /// caller's transaction. Returns the event id.
    @discardableResult
    static func recordEvent(_ event: WebhookEvent, _ db: Database, onlyEndpoint: Int64? = nil, now: Date = Date()) throws -> String {
        try db.execute(sql: "INSERT INTO webhook_events (id, type, territory, created_at, body) VALUES (?, ?, ?, ?, ?)",
                       arguments: [event.id, event.type.rawValue, event.territory, event.createdAt, event.body])
        let seq = db.lastInsertedRowID
        if let onlyEndpoint {
            try db.execute(sql: "INSERT INTO webhook_deliveries (endpoint_id, event_seq, status, next_attempt_at) VALUES (?, ?, 'pending', ?)",
                           arguments: [onlyEndpoint, seq, now.timeIntervalSince1970])
        } else {
            try db.execute(sql: """
                INSERT INTO webhook_deliveries (endpoint_id, event_seq, status, next_attempt_at)
                SELECT w.id, ?, 'pending', ? FROM webhook_endpoints w
                WHERE w.removed_at IS NULL AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = ?)
                  AND (? IS NULL OR w.territories = '[]' OR EXISTS (SELECT 1 FROM json_each(w.territories) WHERE value = ?))
                """, arguments: [seq, now.timeIntervalSince1970, event.type.rawValue, event.territory, event.territory])
        }
        return event.id
    }

    public func dueDeliveries(now: Date) async throws -> [DueDelivery] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT d.endpoint_id, d.event_seq, e.id AS event_id, e.type, w.url, w.secret, e.body, d.attempts, d.first_attempt_at
                FROM (SELECT endpoint_id, min(event_seq) AS event_seq FROM webhook_deliveries WHERE status = 'pending' GROUP BY endpoint_id) head
                JOIN webhook_deliveries d ON d.endpoint_id = head.endpoint_id AND d.event_seq = head.event_seq
                JOIN webhook_events e ON e.seq = d.event_seq
                JOIN webhook_endpoints w ON w.id = d.endpoint_id
                WHERE d.next_attempt_at <= ?
                ORDER BY d.endpoint_id
                """, arguments: [now.timeIntervalSince1970]).map { row in
                DueDelivery(endpointID: row["endpoint_id"], eventSeq: row["event_seq"], eventID: row["event_id"],
                            type: WebhookEventType(rawValue: row["type"]) ?? .ping, url: row["url"], secret: row["secret"],
                            body: row["body"], attempts: row["attempts"],
                            firstAttemptAt: (row["first_attempt_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    public func recordDeliveryAttempt(_ delivery: DueDelivery, outcome: DeliveryOutcome, at: Date) async throws {
        let (status, next, code, error) = outcome.stored(at: at)
        try write { db in
            try db.execute(sql: """
                UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?,
                       first_attempt_at = coalesce(first_attempt_at, ?), last_attempt_at = ?, last_status = ?, last_error = ?
                WHERE endpoint_id = ? AND event_seq = ? AND status = 'pending'
                """, arguments: [status, next.timeIntervalSince1970, at.timeIntervalSince1970, Self.timestamp(at), code, error,
                                 delivery.endpointID, delivery.eventSeq])
        }
    }

    public func webhookDeliveries(failedOnly: Bool, limit: Int) async throws -> [WebhookDeliveryInfo] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT d.endpoint_id, w.url, e.id AS event_id, e.type, e.created_at, d.status, d.attempts, d.last_attempt_at,
                       d.last_status, d.last_error, d.next_attempt_at
                FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq JOIN webhook_endpoints w ON w.id = d.endpoint_id
                \(failedOnly ? "WHERE d.status = 'failed'" : "")
                ORDER BY d.event_seq DESC, d.endpoint_id LIMIT ?
                """, arguments: [limit]).map { row in
                let status: String = row["status"]
                return WebhookDeliveryInfo(webhookID: row["endpoint_id"], url: row["url"], eventID: row["event_id"], type: row["type"],
                                           eventCreatedAt: row["created_at"], status: status, attempts: row["attempts"],
                                           lastAttemptAt: row["last_attempt_at"], lastStatus: row["last_status"], lastError: row["last_error"],
                                           nextAttemptAt: status == "pending"
                                               ? Self.timestamp(Date(timeIntervalSince1970: row["next_attempt_at"])) : nil)
            }
        }
    }
}
