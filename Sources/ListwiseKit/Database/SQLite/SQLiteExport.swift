// Exports on the SQLite store (SPEC §4): the candidates of a run, the contact history, campaigns
// and the opt-out list.
import Foundation
import GRDB

extension AppDatabase {
    /// Selects, filters and renders an export without recording it: the caller writes it
    /// (`writeExport` for a file, or itself to standard output) and then records it.
    public func prepareExport(_ settings: ExportSettings) async throws -> PreparedExport {
        try PreparedExport.checkCampaign(settings)
        let run = try scoreRun(id: settings.runID, territory: settings.territory)
        try PreparedExport.check(run, settings: settings)
        let lists = try read { db in
            let suppressions = try Self.suppressionList(db)
            var recent: Set<String> = []
            if let days = settings.excludeContactedWithinDays {
                let since = Self.timestamp(settings.now.addingTimeInterval(-Double(days) * 86_400))
                recent = Set(try String.fetchAll(db, sql: """
                    SELECT h.prospect_id FROM exports e JOIN contact_history h ON h.export_id = e.id
                    WHERE e.exported_at >= ? AND h.held_out = 0
                    """, arguments: [since]))
            }
            return (suppressions, recent, try Self.campaignHistory(db, campaign: settings.campaign))
        }
        let ranges = try exportRanges(run: run, settings: settings)
        let selection = CandidateSelection(run: run, settings: settings) { filter in
            try self.orderedCandidates(filter, run: run, ranges: ranges, settings: settings)
        }
        return try await PreparedExport.assemble(selection, suppressions: lists.0, recentlyContacted: lists.1, history: lists.2)
    }

    /// Writes the export to `path` atomically with owner-only permissions (0600) and records it,
    /// as one step: the list is written to a temporary file beside `path`, then the history
    /// is inserted, the file renamed into place and the transaction committed. A failure at
    /// any point leaves neither a partial file nor a history entry. (The list is rendered and
    /// written on another thread while the history is inserted: 0.2 s of a 100k-home export.)
    public func writeExport(_ export: PreparedExport, to path: String) throws {
        let temporary = ExportFile.temporaryPath(beside: path)
        let written = ThreadResults<Void>(count: 1)
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            written.set(0, Result { try ExportFile.writePrivateFile(export.content, to: temporary) })
        }
        var renamed = false
        do {
            try record(export, destination: path) {
                group.wait()
                _ = try written.all()
                try ExportFile.moveIntoPlace(temporary, path)
                renamed = true
            }
        } catch {
            group.wait()
            unlink(renamed ? path : temporary)
            throw error
        }
    }

    /// Records an export already written elsewhere (standard output).
    public func recordExport(_ export: PreparedExport, destination: String = "-") throws {
        try record(export, destination: destination) {}
    }

    /// The history rows of one export in one transaction; `beforeCommit` runs last inside it.
    private func record(_ export: PreparedExport, destination: String, beforeCommit: () throws -> Void) throws {
        let now = Self.timestamp(export.settings.now)
        try write { db in
            try db.execute(sql: "INSERT INTO campaigns (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                           arguments: [export.settings.campaign, now])
            try db.execute(sql: """
                INSERT INTO exports (campaign, channel, run_id, territory, selection, destination, exported_at, rows, prospects,
                                     holdout_percent, holdout_seed, held_out)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [export.settings.campaign, export.settings.channel.rawValue, export.summary.runID,
                                 export.settings.territory, export.settings.selection.description, destination, now,
                                 export.summary.exportedRows, export.summary.exportedProspects,
                                 export.summary.holdout?.percent, export.summary.holdout?.seed, export.summary.heldOutProspects])
            let exportID = db.lastInsertedRowID
            // Raw binds: one row a prospect, 100k+ for a large mailing.
            let insert = try RawStatement(db, sql: """
                INSERT OR IGNORE INTO contact_history (export_id, prospect_id, property_id, held_out) VALUES (?, ?, ?, ?)
                """, persistent: true)
            let homes = export.prospectHomes
            for (ids, heldOut) in [(export.prospectIDs, 0), (export.heldOutProspectIDs, 1)] {
                for id in ids { try insert.run([.integer(Int(exportID)), .text(id), .text(homes[id]), .integer(heldOut)]) }
            }
            try Self.recordEvent(.export(export, exportID: exportID, destination: destination, now: export.settings.now), db)
            try beforeCommit()
        }
    }

    /// What the campaign's earlier exports decided: prospects held out, homes reached or held out.
    static func campaignHistory(_ db: Database, campaign: String) throws -> CampaignHistory {
        var history = CampaignHistory()
        let rows = try Row.fetchCursor(db, sql: """
            SELECT h.prospect_id, h.property_id, h.held_out FROM exports e JOIN contact_history h ON h.export_id = e.id
            WHERE e.campaign = ?
            """, arguments: [campaign])
        while let row = try rows.next() { history.record(prospect: row[0], home: row[1], heldOut: row[2]) }
        for row in try Row.fetchAll(db, sql: "SELECT DISTINCT holdout_percent FROM exports WHERE campaign = ?", arguments: [campaign]) {
            history.record(holdoutPercent: row[0])
        }
        return history
    }

    static func suppressionList(_ db: Database) throws -> SuppressionList {
        var list = SuppressionList()
        for row in try Row.fetchAll(db, sql: "SELECT kind, value FROM suppressions") { list.add(kind: row[0], value: row[1]) }
        return list
    }

    /// Prepares, writes and records an export: to `path` (atomically, 0600) or, when `path` is
    /// nil, through `emit` (standard output), then recorded.
    public func export(_ settings: ExportSettings, to path: String?, emit: (Data) throws -> Void) async throws -> PreparedExport {
        let export = try await prepareExport(settings)
        if let path {
            try writeExport(export, to: path)
        } else {
            try emit(export.content)
            try recordExport(export)
        }
        return export
    }
}

extension AppDatabase {
    /// One range of property ids per thread (two for large runs).
    func exportRanges(run: ScoreRunRecord, settings: ExportSettings) throws -> [PropertyRange] {
        try read { db in
            try PropertyRange.split(db, parts: run.rows >= settings.parallelFromRows ? 2 : 1, count: run.rows,
                                    ids: "SELECT property_id FROM scores WHERE run_id = ?", arguments: [run.id])
        }
    }

    /// The candidates of the run's homes that match `filter`, best home first (ties by property
    /// id), a home's prospects together; and the on-market homes left out (probability, whether
    /// a prospect).
    ///
    /// No SQL sort: a window of ranks is one scan of the run (`ORDER BY probability LIMIT 100000`
    /// over a 1M-home run took 1.0 s by itself, the scan 0.15 s), joined to its properties and
    /// prospects, and Swift sorts it. Two threads scan the two halves of the run on their own
    /// read-only connections (the join was 0.8–1.1 s of a 100k-home mail export on one). A score
    /// run never changes once written; properties and prospects are read as they are when each
    /// half starts.
    func orderedCandidates(_ candidateFilter: CandidateFilter, run: ScoreRunRecord, ranges: [PropertyRange],
                           settings: ExportSettings) throws -> OrderedCandidates {
        let filter: String
        var arguments: StatementArguments = ["run": run.id]
        switch candidateFilter {
        case .rankWindow(let above, let through, let withOnMarket):
            filter = "((s.rank > :above AND s.rank <= :through)\(withOnMarket ? " OR s.on_market = 1" : ""))"
            arguments += ["above": above, "through": through]
        case .minProbability(let minimum):
            filter = "s.probability >= :minimum"
            arguments += ["minimum": minimum]
        }
        let parts = ThreadResults<CandidatePart>(count: ranges.count)
        let queryArguments = arguments
        let includeOnMarket = settings.includeOnMarket
        let channel = settings.channel
        DispatchQueue.concurrentPerform(iterations: ranges.count) { part in
            parts.set(part, Result {
                try self.read { db in
                    try Self.fetchCandidates(db, filter: filter, arguments: queryArguments, range: ranges[part], includeOnMarket: includeOnMarket,
                                             standardize: channel == .mail)
                }
            })
        }
        let fetched = try parts.all()
        // Rows come by property (the scores key), a home's prospects together by prospect id
        // (the prospects_by_property index): sort the homes, not the rows (moving 125k large
        // structs was 0.2 s), then copy each row once, in order.
        var starts: [(part: Int, row: Int)] = []
        for (p, part) in fetched.enumerated() {
            for index in part.rows.indices where index == 0 || part.rows[index].propertyID != part.rows[index - 1].propertyID {
                starts.append((p, index))
            }
        }
        starts.sort { a, b in
            let x = fetched[a.part].rows[a.row], y = fetched[b.part].rows[b.row]
            return x.probability != y.probability ? x.probability > y.probability : x.propertyID < y.propertyID
        }
        var ordered: [ExportCandidate] = []
        var homeStarts: [Int] = []
        ordered.reserveCapacity(fetched.reduce(0) { $0 + $1.rows.count })
        homeStarts.reserveCapacity(starts.count)
        for start in starts {
            homeStarts.append(ordered.count)
            let rows = fetched[start.part].rows
            var index = start.row
            repeat { ordered.append(rows[index]); index += 1 } while index < rows.count && rows[index].propertyID == rows[start.row].propertyID
        }
        return OrderedCandidates(rows: ordered, homeStarts: homeStarts, onMarket: fetched.flatMap(\.onMarket))
    }

    /// The candidate rows of one range of property ids, and the on-market homes (probability,
    /// whether a prospect) when they are not to be exported.
    static func fetchCandidates(_ db: Database, filter: String, arguments: StatementArguments, range: PropertyRange, includeOnMarket: Bool,
                                standardize: Bool) throws -> CandidatePart {
        var rangeFilter = ""
        var arguments = arguments
        if let lower = range.lower { rangeFilter += " AND s.property_id >= :lower"; arguments += ["lower": lower] }
        if let upper = range.upper { rangeFilter += " AND s.property_id < :upper"; arguments += ["upper": upper] }
        // Raw column reads: decoding 125k rows of 24 columns through GRDB `Row` took 0.6 s.
        let statement = try db.makeStatement(sql: """
            \(CandidateQuery.selectFrom)
            WHERE s.run_id = :run AND \(filter)\(rangeFilter)
            """)
        try statement.setArguments(arguments)
        let raw = try RawStatement(db, reading: statement)
        let c = try CandidateColumns(raw)
        var part = CandidatePart()
        while try raw.step() {
            let onMarket = raw.int64(c.onMarket) != 0
            if onMarket, !includeOnMarket {
                part.onMarket.append((raw.double(c.probability), !raw.isNull(c.prospectID)))
                continue
            }
            var candidate = ExportCandidate(
                propertyID: raw.text(c.propertyID) ?? "", probability: raw.double(c.probability),
                rank: raw.isNull(c.rank) ? nil : Int(raw.int64(c.rank)), onMarket: onMarket,
                reasons: c.reasons.compactMap { raw.text($0) },
                propertyAddress: raw.text(c.address) ?? "", propertyCity: raw.text(c.city) ?? "", propertyState: raw.text(c.state) ?? "",
                propertyZip: raw.text(c.zip) ?? "", propertyZip4: raw.text(c.zip4), prospectID: raw.text(c.prospectID),
                firstName: raw.text(c.firstName) ?? "", lastName: raw.text(c.lastName) ?? "",
                mailingAddress: raw.text(c.mailingAddress), mailingCity: raw.text(c.mailingCity), mailingState: raw.text(c.mailingState),
                mailingZip: raw.text(c.mailingZip), mailingZip4: raw.text(c.mailingZip4), email: raw.text(c.email), phone: raw.text(c.phone),
                doNotMail: raw.int64(c.doNotMail) != 0, doNotEmail: raw.int64(c.doNotEmail) != 0, doNotCall: raw.int64(c.doNotCall) != 0)
            candidate.tier = raw.text(c.tier)
            if standardize { candidate.standardizeDelivery() }
            part.rows.append(candidate)
        }
        return part
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
                        WHERE e.campaign = c.name AND h.held_out = 0) AS prospects,
                       (SELECT count(DISTINCT h.prospect_id) FROM exports e JOIN contact_history h ON h.export_id = e.id
                        WHERE e.campaign = c.name AND h.held_out = 1) AS held_out,
                       (SELECT max(holdout_percent) FROM exports e WHERE e.campaign = c.name) AS holdout_percent,
                       (SELECT max(exported_at) FROM exports e WHERE e.campaign = c.name) AS last_export_at
                FROM campaigns c ORDER BY last_export_at DESC, c.name
                """).map { row in
                CampaignSummary(name: row["name"], createdAt: row["created_at"], exports: row["exports"],
                                channels: ((row["channels"] as String?) ?? "").split(separator: ",").map(String.init),
                                rows: row["rows"], prospects: row["prospects"], lastExportAt: row["last_export_at"],
                                heldOut: row["held_out"], holdoutPercent: row["holdout_percent"])
            }
        }
    }
}

extension AppDatabase {
    /// Adds the entries of `path` to the opt-out list, all or nothing. The file is a CSV with a
    /// header naming any of `email`, `phone`, `address` (with `zip` for the address), or a plain
    /// list with one entry a line, each recognised as an email (has @), a phone (10 or 11
    /// digits) or else an address. An entry that is none of these is a usage error naming its
    /// line and column; the list is then unchanged.
    public func suppress(file path: String, now: Date = Date()) throws -> SuppressSummary {
        let entries = try SuppressionFile.suppressionEntries(file: path)
        var summary = SuppressSummary(file: path, emails: 0, phones: 0, addresses: 0, alreadyListed: 0)
        let added = Self.timestamp(now)
        try write { db in
            for entry in entries {
                try db.execute(sql: "INSERT INTO suppressions (kind, value, source, added_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                               arguments: [entry.kind, entry.value, path, added])
                summary.count(kind: db.changesCount == 0 ? nil : entry.kind)
            }
        }
        return summary
    }

}

/// The candidate query's columns, resolved by name once a query.
private struct CandidateColumns {
    let propertyID, probability, onMarket, rank, address, city, state, zip, zip4: Int32
    let prospectID, firstName, lastName, mailingAddress, mailingCity, mailingState, mailingZip, mailingZip4: Int32
    let email, phone, doNotMail, doNotEmail, doNotCall, tier: Int32
    let reasons: [Int32]

    init(_ statement: RawStatement) throws {
        func c(_ name: String) throws -> Int32 { try statement.column(name) }
        (propertyID, probability, onMarket, rank) = (try c("property_id"), try c("probability"), try c("on_market"), try c("rank"))
        (address, city, state, zip, zip4) = (try c("address"), try c("city"), try c("state"), try c("zip"), try c("zip4"))
        (prospectID, firstName, lastName) = (try c("prospect_id"), try c("first_name"), try c("last_name"))
        (mailingAddress, mailingCity, mailingState) = (try c("mailing_address"), try c("mailing_city"), try c("mailing_state"))
        (mailingZip, mailingZip4, email, phone) = (try c("mailing_zip"), try c("mailing_zip4"), try c("email"), try c("phone"))
        (doNotMail, doNotEmail, doNotCall, tier) = (try c("do_not_mail"), try c("do_not_email"), try c("do_not_call"), try c("tier"))
        reasons = [try c("reason1"), try c("reason2"), try c("reason3")]
    }
}
