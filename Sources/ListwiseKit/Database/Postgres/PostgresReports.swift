// The reading commands on a PostgreSQL store (status, report, campaigns) and the opt-out list
// (suppress): the same reports as on SQLite, built by the same code from the server's rows.
import Foundation
import PostgresNIO

extension PostgresStore {
    public func status(modelFile: String?, now: Date = Date()) async throws -> StatusReport {
        let model = try StatusReport.activeModel(modelFile)
        var facts = StatusFacts(counts: try await dataCounts())
        for try await (file, kind, finished, rows, rejected) in try await query("""
            SELECT file, kind, \(unescaped: Self.timestampText("finished_at")), rows, rejected FROM imports ORDER BY id DESC LIMIT 1
            """).decode((String, String, String, Int, Int).self) {
            facts.lastImport = .init(file: file, kind: kind, finishedAt: finished, rows: rows, rejected: rejected)
        }
        for try await (started, finished, status, error, report) in try await query("""
            SELECT \(unescaped: Self.timestampText("started_at")), \(unescaped: Self.timestampText("finished_at")), status, error, report::text
            FROM refresh_runs ORDER BY id DESC LIMIT 1
            """).decode((String, String?, String, String?, String?).self) {
            facts.lastRefresh = .init(startedAt: started, finishedAt: finished, status: status, error: error, report: report)
        }
        facts.lastScoreRun = try await fetchScoreRun("ORDER BY id DESC LIMIT 1")
        if let model {
            facts.modelRun = try await fetchScoreRun("WHERE model_fingerprint = \(model.trainingFingerprint) ORDER BY id DESC LIMIT 1")
        }
        return StatusReport.build(facts, model: model, modelFile: modelFile, now: now)
    }

    /// The report of a score run (default: the territory's latest run).
    public func territoryReport(territory: String?, runID: Int64?) async throws -> TerritoryReport {
        let run = try await scoreRun(id: runID, territory: territory)
        var homes: [TerritoryReport.Home] = []
        let rows = try await query("""
            SELECT s.property_id, p.address, p.zip, p.latitude, p.longitude, s.probability, s.rank, s.tier, s.on_market,
                   s.reason1, s.reason2, s.reason3
            FROM scores s JOIN properties p ON p.property_id = s.property_id WHERE s.run_id = \(run.id)
            ORDER BY s.property_id COLLATE "C"
            """)
        for try await (id, address, zip, latitude, longitude, probability, rank, tier, onMarket, reason1, reason2, reason3)
            in rows.decode((String, String, String, Double?, Double?, Double, Int?, String?, Bool, String?, String?, String?).self) {
            homes.append(TerritoryReport.Home(propertyID: id, address: address, zip: zip, probability: probability, rank: rank, tier: tier,
                                              onMarket: onMarket, reasons: [reason1, reason2, reason3].compactMap { $0 },
                                              latitude: latitude, longitude: longitude))
        }
        var report = TerritoryReport(run: run, homes: homes)
        report.campaigns = try await measuredCampaignResults(territory: run.territory)
        return report
    }

    /// Every campaign with its counts, most recently exported first.
    public func campaigns() async throws -> [CampaignSummary] {
        let rows = try await query("""
            SELECT c.name, \(unescaped: Self.timestampText("c.created_at")),
                   (SELECT count(*) FROM exports e WHERE e.campaign = c.name),
                   (SELECT coalesce(string_agg(DISTINCT channel, ',' ORDER BY channel), '') FROM exports e WHERE e.campaign = c.name),
                   (SELECT coalesce(sum(rows), 0)::bigint FROM exports e WHERE e.campaign = c.name),
                   (SELECT count(DISTINCT h.prospect_id) FROM exports e JOIN contact_history h ON h.export_id = e.id
                    WHERE e.campaign = c.name AND NOT h.held_out),
                   (SELECT \(unescaped: Self.timestampText("max(exported_at)")) FROM exports e WHERE e.campaign = c.name) AS last_export_at,
                   (SELECT count(DISTINCT h.prospect_id) FROM exports e JOIN contact_history h ON h.export_id = e.id
                    WHERE e.campaign = c.name AND h.held_out),
                   (SELECT max(holdout_percent) FROM exports e WHERE e.campaign = c.name)
            FROM campaigns c ORDER BY last_export_at DESC NULLS LAST, c.name COLLATE "C"
            """)
        var all: [CampaignSummary] = []
        for try await (name, created, exports, channels, rowCount, prospects, last, heldOut, percent)
            in rows.decode((String, String, Int, String, Int, Int, String?, Int, Int?).self) {
            all.append(CampaignSummary(name: name, createdAt: created, exports: exports,
                                       channels: channels.split(separator: ",").map(String.init), rows: rowCount,
                                       prospects: prospects, lastExportAt: last, heldOut: heldOut, holdoutPercent: percent))
        }
        return all
    }

    /// Adds an opt-out file's entries (validated whole first) in one transaction.
    public func suppress(file path: String, now: Date = Date()) async throws -> SuppressSummary {
        let entries = try SuppressionFile.suppressionEntries(file: path)
        var summary = SuppressSummary(file: path, emails: 0, phones: 0, addresses: 0, alreadyListed: 0)
        let logger = self.logger
        do {
            try await inTransaction { connection in
                for entry in entries {
                    var added: String?
                    for try await kind in try await connection.query("""
                        INSERT INTO suppressions (kind, value, source, added_at) VALUES (\(entry.kind), \(entry.value), \(path), \(now))
                        ON CONFLICT DO NOTHING RETURNING kind
                        """, logger: logger).decode(String.self) {
                        added = kind
                    }
                    summary.count(kind: added)
                }
            }
        } catch {
            throw describe(error)
        }
        return summary
    }
}
