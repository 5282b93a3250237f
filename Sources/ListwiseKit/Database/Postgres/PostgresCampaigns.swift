// Measured campaigns on a PostgreSQL store (SPEC §11): the same reads as SQLiteCampaigns.swift,
// in one repeatable-read transaction (history and events from one snapshot).
import Foundation
import PostgresNIO

extension PostgresStore {
    public func campaignResults(_ name: String, asOfDay: Int?) async throws -> CampaignResults {
        let logger = self.logger
        do {
            return try await inTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
                var exists = false
                for try await value in try await connection.query("SELECT EXISTS (SELECT 1 FROM campaigns WHERE name = \(name))", logger: logger)
                    .decode(Bool.self) {
                    exists = value
                }
                guard exists else { throw ListwiseError.usage("no campaign named \(name) (listwise campaigns lists them)") }
                var rows: [CampaignHistoryRow] = []
                for try await (home, heldOut, exportID, exportedDay, asOfDay, horizon, tier, probability, percent) in try await connection.query("""
                    SELECT h.property_id, h.held_out, e.id, ((e.exported_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01'),
                           (r.as_of - DATE '1970-01-01'), r.horizon_days, s.tier, s.probability, e.holdout_percent
                    FROM exports e JOIN contact_history h ON h.export_id = e.id JOIN score_runs r ON r.id = e.run_id
                    LEFT JOIN scores s ON s.run_id = e.run_id AND s.property_id = h.property_id
                    WHERE e.campaign = \(name)
                    ORDER BY e.id
                    """, logger: logger).decode((String, Bool, Int64, Int, Int, Int, String?, Double?, Int?).self) {
                    rows.append(CampaignHistoryRow(propertyID: home, heldOut: heldOut, exportID: exportID, exportedDay: exportedDay,
                                                   runAsOfDay: asOfDay, horizonDays: horizon, tier: tier, probability: probability,
                                                   holdoutPercent: percent))
                }
                var end = asOfDay
                if end == nil { end = try await self.lastEventDay(on: connection) }
                let last = end ?? rows.map(\.runAsOfDay).max() ?? 0
                var events: [CampaignOutcomeEvent] = []
                if let start = rows.map(\.runAsOfDay).min() {
                    for try await (home, type, day) in try await connection.query("""
                        SELECT ev.property_id, ev.event_type, (ev.event_date - DATE '1970-01-01') FROM events ev
                        WHERE ev.property_id IN (SELECT h.property_id FROM exports e JOIN contact_history h ON h.export_id = e.id
                                                 WHERE e.campaign = \(name))
                          AND ev.event_type IN ('LISTING', 'SALE')
                          AND ev.event_date > DATE '1970-01-01' + \(Int32(start)) AND ev.event_date <= DATE '1970-01-01' + \(Int32(last))
                        """, logger: logger).decode((String, String, Int).self) {
                        events.append(CampaignOutcomeEvent(propertyID: home, isListing: type == "LISTING", day: day))
                    }
                }
                return CampaignResults.compute(campaign: name, rows: rows, events: events, asOfDay: last)
            }
        } catch {
            throw describe(error)
        }
    }

    public func measuredCampaigns(territory: String?) async throws -> [String] {
        var names: [String] = []
        for try await name in try await query("""
            SELECT e.campaign FROM exports e JOIN score_runs r ON r.id = e.run_id
            WHERE e.holdout_percent IS NOT NULL AND (\(territory)::text IS NULL OR r.territory = \(territory))
            GROUP BY e.campaign ORDER BY max(e.id) DESC
            """).decode(String.self) {
            names.append(name)
        }
        return names
    }
}
