// Exports on a PostgreSQL store (SPEC §4, §7). Several marketers may export at once: the
// contact history is the arbiter. Each export runs in one transaction that first locks the
// contact history against other writers (SHARE ROW EXCLUSIVE: readers go on, a second export
// waits), then reads the recent contacts, selects, writes the list and records whom it reaches,
// and commits; the next export then sees those contacts, so two exports with a frequency cap
// never reach the same prospect inside it. (Under SERIALIZABLE the second would fail and
// retry instead; the lock makes it wait, which a cron job handles better.)
import Foundation
import PostgresNIO

extension PostgresStore {
    public func export(_ settings: ExportSettings, to path: String?, emit: (Data) throws -> Void) async throws -> PreparedExport {
        try PreparedExport.checkCampaign(settings)
        let run = try await scoreRun(id: settings.runID, territory: settings.territory)
        try PreparedExport.check(run, settings: settings)
        let logger = self.logger
        var temporary: String?
        var renamed = false
        do {
            let export = try await inTransaction { connection in
                try await connection.query("LOCK TABLE contact_history IN SHARE ROW EXCLUSIVE MODE", logger: logger)
                var suppressions = SuppressionList()
                for try await (kind, value) in try await connection.query("SELECT kind, value FROM suppressions", logger: logger)
                    .decode((String, String).self) {
                    suppressions.add(kind: kind, value: value)
                }
                var recent: Set<String> = []
                if let days = settings.excludeContactedWithinDays {
                    let since = settings.now.addingTimeInterval(-Double(days) * 86_400)
                    for try await id in try await connection.query("""
                        SELECT h.prospect_id FROM exports e JOIN contact_history h ON h.export_id = e.id
                        WHERE e.exported_at >= \(since) AND NOT h.held_out
                        """, logger: logger).decode(String.self) {
                        recent.insert(id)
                    }
                }
                var history = CampaignHistory()
                for try await (prospect, home, heldOut) in try await connection.query("""
                    SELECT h.prospect_id, h.property_id, h.held_out FROM exports e JOIN contact_history h ON h.export_id = e.id
                    WHERE e.campaign = \(settings.campaign)
                    """, logger: logger).decode((String, String, Bool).self) {
                    history.record(prospect: prospect, home: home, heldOut: heldOut)
                }
                for try await percent in try await connection.query("""
                    SELECT DISTINCT holdout_percent FROM exports WHERE campaign = \(settings.campaign)
                    """, logger: logger).decode(Int?.self) {
                    history.record(holdoutPercent: percent)
                }
                let selection = CandidateSelection(run: run, settings: settings) { filter in
                    try await self.orderedCandidates(filter, run: run, settings: settings, on: connection)
                }
                let export = try await PreparedExport.assemble(selection, suppressions: suppressions, recentlyContacted: recent,
                                                              history: history)
                if let path {
                    temporary = ExportFile.temporaryPath(beside: path)
                    try ExportFile.writePrivateFile(export.content, to: temporary!)
                } else {
                    try emit(export.content)
                }
                try await record(export, destination: path ?? "-", on: connection)
                if let path, let temporary {
                    try ExportFile.moveIntoPlace(temporary, path)
                    renamed = true
                }
                return export
            }
            return export
        } catch {
            if let temporary { unlink(renamed ? path! : temporary) }
            throw describe(error)
        }
    }

    /// The campaign, the export and its contact history (the home of each prospect with it).
    private func record(_ export: PreparedExport, destination: String, on connection: PostgresConnection) async throws {
        let settings = export.settings, summary = export.summary
        try await connection.query("""
            INSERT INTO campaigns (name, created_at) VALUES (\(settings.campaign), \(settings.now)) ON CONFLICT (name) DO NOTHING
            """, logger: logger)
        var exportID: Int64 = 0
        for try await id in try await connection.query("""
            INSERT INTO exports (campaign, channel, run_id, territory, selection, destination, exported_at, rows, prospects,
                                 holdout_percent, holdout_seed, held_out)
            VALUES (\(settings.campaign), \(settings.channel.rawValue), \(summary.runID), \(settings.territory),
                    \(settings.selection.description), \(destination), \(settings.now), \(summary.exportedRows), \(summary.exportedProspects),
                    \(summary.holdout?.percent), \(summary.holdout.map { Int64($0.seed) }), \(summary.heldOutProspects))
            RETURNING id
            """, logger: logger).decode(Int64.self) {
            exportID = id
        }
        // Each prospect with its home as the export saw it (results count homes).
        let homes = export.prospectHomes
        for (ids, heldOut) in [(export.prospectIDs, false), (export.heldOutProspectIDs, true)] where !ids.isEmpty {
            try await connection.query("""
                INSERT INTO contact_history (property_id, export_id, prospect_id, held_out)
                SELECT home, \(exportID), prospect, \(heldOut) FROM unnest(\(ids.map { homes[$0] ?? "" }), \(ids)) AS t(home, prospect)
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        try await recordEvent(.export(export, exportID: exportID, destination: destination, now: settings.now), on: connection)
    }

    /// The candidates of the run's homes that pass `filter`, in the order SQLite's export puts
    /// them (best home first, ties by property id in byte order, a home's prospects by id).
    private func orderedCandidates(_ filter: CandidateFilter, run: ScoreRunRecord, settings: ExportSettings,
                                   on connection: PostgresConnection) async throws -> OrderedCandidates {
        // One statement for both filters (a rank window, with or without the on-market homes;
        // a minimum probability), its values bound.
        var (byRank, above, through, withOnMarket, minimum) = (false, 0, 0, false, 0.0)
        switch filter {
        case .rankWindow(let first, let last, let onMarket): (byRank, above, through, withOnMarket) = (true, first, last, onMarket)
        case .minProbability(let value): minimum = value
        }
        let query: PostgresQuery = """
            \(unescaped: CandidateQuery.selectFrom)
            WHERE s.run_id = \(run.id) AND s.probability >= \(minimum)
              AND (NOT \(byRank) OR (s.rank > \(above) AND s.rank <= \(through)) OR (\(withOnMarket) AND s.on_market))
            ORDER BY s.probability DESC, s.property_id COLLATE "C", c.prospect_id COLLATE "C"
            """
        var ordered = OrderedCandidates()
        for try await row in try await connection.query(query, logger: logger) {
            let cells = row.makeRandomAccess()
            func text(_ name: String) throws -> String? { try cells[name].decode(String?.self) }
            let onMarket = try cells["on_market"].decode(Bool.self)
            let probability = try cells["probability"].decode(Double.self)
            if onMarket, !settings.includeOnMarket {
                ordered.onMarket.append((probability, try text("prospect_id") != nil))
                continue
            }
            var candidate = ExportCandidate(
                propertyID: try text("property_id") ?? "", probability: probability, rank: try cells["rank"].decode(Int?.self),
                onMarket: onMarket, reasons: try [text("reason1"), text("reason2"), text("reason3")].compactMap { $0 },
                propertyAddress: try text("address") ?? "", propertyCity: try text("city") ?? "", propertyState: try text("state") ?? "",
                propertyZip: try text("zip") ?? "", propertyZip4: try text("zip4"), prospectID: try text("prospect_id"),
                firstName: try text("first_name") ?? "", lastName: try text("last_name") ?? "",
                mailingAddress: try text("mailing_address"), mailingCity: try text("mailing_city"), mailingState: try text("mailing_state"),
                mailingZip: try text("mailing_zip"), mailingZip4: try text("mailing_zip4"), email: try text("email"), phone: try text("phone"),
                doNotMail: try cells["do_not_mail"].decode(Bool?.self) ?? false, doNotEmail: try cells["do_not_email"].decode(Bool?.self) ?? false,
                doNotCall: try cells["do_not_call"].decode(Bool?.self) ?? false)
            candidate.tier = try text("tier")
            if settings.channel == .mail { candidate.standardizeDelivery() }
            if ordered.rows.last?.propertyID != candidate.propertyID { ordered.homeStarts.append(ordered.rows.count) }
            ordered.rows.append(candidate)
        }
        return ordered
    }
}
