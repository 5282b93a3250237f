// The campaign history: `listwise campaigns`.
import Foundation
import GRDB

public struct CampaignSummary: Codable, Equatable, Sendable {
    public var name: String
    public var createdAt: String
    public var exports: Int
    public var channels: [String]
    public var rows: Int
    /// Distinct prospects reached by the campaign's exports.
    public var prospects: Int
    public var lastExportAt: String?

    public enum CodingKeys: String, CodingKey {
        case name, createdAt = "created_at", exports, channels, rows, prospects, lastExportAt = "last_export_at"
    }
}

extension AppDatabase {
    /// Every campaign with its counts, most recently exported first.
    public func campaigns() throws -> [CampaignSummary] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.name, c.created_at,
                       (SELECT count(*) FROM exports e WHERE e.campaign = c.name) AS exports,
                       (SELECT group_concat(channel, ',') FROM (SELECT DISTINCT channel FROM exports e WHERE e.campaign = c.name ORDER BY channel)) AS channels,
                       (SELECT coalesce(sum(rows), 0) FROM exports e WHERE e.campaign = c.name) AS rows,
                       (SELECT count(DISTINCT h.prospect_id) FROM exports e JOIN contact_history h ON h.export_id = e.id
                        WHERE e.campaign = c.name) AS prospects,
                       (SELECT max(exported_at) FROM exports e WHERE e.campaign = c.name) AS last_export_at
                FROM campaigns c ORDER BY last_export_at DESC, c.name
                """).map { row in
                CampaignSummary(name: row["name"], createdAt: row["created_at"], exports: row["exports"],
                                channels: ((row["channels"] as String?) ?? "").split(separator: ",").map(String.init),
                                rows: row["rows"], prospects: row["prospects"], lastExportAt: row["last_export_at"])
            }
        }
    }
}
