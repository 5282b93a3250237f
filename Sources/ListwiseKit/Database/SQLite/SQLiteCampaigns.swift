// Measured campaigns on the SQLite store (SPEC §11): a campaign's history with each home's run,
// tier and probability, and the LISTING and SALE events of its homes after the list's date.
import Foundation
import GRDB

extension AppDatabase {
    /// The results of campaign `name`, counting events up to `asOfDay` (default: the newest event).
    public func campaignResults(_ name: String, asOfDay: Int?) throws -> CampaignResults {
        try read { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM campaigns WHERE name = ?)", arguments: [name]) == true else {
                throw ListwiseError.usage("no campaign named \(name) (listwise campaigns lists them)")
            }
            var rows: [CampaignHistoryRow] = []
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT h.property_id, h.held_out, e.id, substr(e.exported_at, 1, 10), r.as_of, r.horizon_days, s.tier, s.probability,
                       e.holdout_percent
                FROM exports e JOIN contact_history h ON h.export_id = e.id JOIN score_runs r ON r.id = e.run_id
                LEFT JOIN scores s ON s.run_id = e.run_id AND s.property_id = h.property_id
                WHERE e.campaign = ? AND h.property_id IS NOT NULL
                ORDER BY e.id
                """, arguments: [name])
            while let row = try cursor.next() {
                rows.append(CampaignHistoryRow(
                    propertyID: row[0], heldOut: row[1], exportID: row[2], exportedDay: DayNumber.parse(row[3]) ?? 0,
                    runAsOfDay: DayNumber.parse(row[4]) ?? 0, horizonDays: row[5], tier: row[6], probability: row[7], holdoutPercent: row[8]))
            }
            let end = try asOfDay ?? Self.lastEventDay(in: db) ?? rows.map(\.runAsOfDay).max() ?? 0
            var events: [CampaignOutcomeEvent] = []
            if let start = rows.map(\.runAsOfDay).min() {
                let eventCursor = try Row.fetchCursor(db, sql: """
                    SELECT ev.property_id, ev.event_type, ev.event_date FROM events ev
                    WHERE ev.property_id IN (SELECT h.property_id FROM exports e JOIN contact_history h ON h.export_id = e.id WHERE e.campaign = ?)
                      AND ev.event_type IN ('LISTING', 'SALE') AND ev.event_date > ? AND ev.event_date <= ?
                    """, arguments: [name, DayNumber.iso(start), DayNumber.iso(end)])
                while let row = try eventCursor.next() {
                    events.append(CampaignOutcomeEvent(propertyID: row[0], isListing: (row[1] as String) == "LISTING",
                                                       day: DayNumber.parse(row[2]) ?? 0))
                }
            }
            return CampaignResults.compute(campaign: name, rows: rows, events: events, asOfDay: end)
        }
    }

    /// Campaigns that hold out, newest export first; only those exported from runs of
    /// `territory` when given.
    public func measuredCampaigns(territory: String?) throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT e.campaign FROM exports e JOIN score_runs r ON r.id = e.run_id
                WHERE e.holdout_percent IS NOT NULL AND (? IS NULL OR r.territory = ?)
                GROUP BY e.campaign ORDER BY max(e.id) DESC
                """, arguments: [territory, territory])
        }
    }
}
