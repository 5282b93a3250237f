// Score runs on the SQLite store (SPEC §3): the features streamed over the cores, scores staged,
// ranked by SQL with Swift rank functions; the runs and their freshness read back.
import Foundation
import GRDB

extension AppDatabase {
    /// Scores the homes in scope and stores the run, streaming: features come in chunks of
    /// `settings.chunkRows` homes, each chunk is scored with one design matrix and one `dgemv` and
    /// staged; one INSERT ... SELECT then writes the scores with ranks, percentiles and tiers.
    /// Memory grows only by 16 bytes a home (the probabilities kept for ranking and their sorted
    /// copy). The run is one transaction: all of it or nothing.
    public func score(model: LikelyToSellModel, settings: ScoreSettings) throws -> ScoreRunSummary {
        let started = Date()
        let scope = try settings.territory.map { try territory(named: $0).definition }
        let features = try model.rawFeatures()
        if features.contains(where: \.needsOwnerHistory), try !read(Self.hasOwnerHistory(in:)) {
            throw ListwiseError.usage("the model needs owners.csv features, but the database has no owners")
        }
        var summary = ScoreRunSummary(runID: 0, rows: 0, onMarket: 0, expectedListings: 0, tierCounts: [:], warnings: [])
        summary.warnings += ScoreWarnings.beforeRun(settings, newestEventDay: try newestEventDay())
        // Foreign keys are off for the run: every score's property comes from the properties table
        // itself, and the check (a properties lookup a row) was 1.5 s of a 1M-home run.
        try writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
            try db.inTransaction(.immediate) {
                try db.execute(sql: """
                    INSERT INTO score_runs (model_file, model_fingerprint, territory, as_of, horizon_days, started_at, finished_at, rows, on_market)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)
                    """, arguments: [settings.modelFile, model.trainingFingerprint, settings.territory, DayNumber.iso(settings.asOfDay),
                                     model.horizonDays, Self.timestamp(started), Self.timestamp(started)])
                let runID = db.lastInsertedRowID
                summary.runID = runID
                // Pass 1: scores and reasons to a staging table, probabilities kept (8 bytes a home) for ranking.
                try db.execute(sql: """
                    CREATE TEMP TABLE IF NOT EXISTS score_staging (
                        property_id TEXT PRIMARY KEY NOT NULL, probability REAL NOT NULL, on_market INTEGER NOT NULL,
                        reason1 TEXT, reason2 TEXT, reason3 TEXT) WITHOUT ROWID;
                    DELETE FROM score_staging;
                    """)
                let stage = try RawStatement(db, sql: "INSERT INTO score_staging VALUES (?, ?, ?, ?, ?, ?)", persistent: true)
                var ranked: [Double] = []
                let featureSettings = FeatureSettings(asOfDays: [settings.asOfDay], horizonDays: model.horizonDays,
                                                      marketRates: settings.marketRates, includeOnMarket: true, scope: scope)
                let profileCounts = model.featureProfiles.map(ProfileCounts.init)
                // Scored on the reader threads; the caller holds the write lock (BEGIN IMMEDIATE)
                // to the end, so the run describes the data the readers saw.
                let readers = try startFeatureReaders(db, settings: featureSettings, workers: settings.workers,
                                                      chunkRows: settings.chunkRows) { chunk in
                    profileCounts?.add(chunk)
                    return try HomeScore.scores(of: chunk, model: model, features: features)
                }
                try readers.forEach { _, scored in
                    for score in scored {
                        let reasons = score.reasons.map { $0 as String? } + Array(repeating: nil, count: max(0, 3 - score.reasons.count))
                        try stage.run([.text(score.propertyID), .double(score.probability), .integer(score.onMarket ? 1 : 0),
                                       .text(reasons[0]), .text(reasons[1]), .text(reasons[2])])
                        summary.rows += 1
                        if score.onMarket { summary.onMarket += 1 } else { summary.expectedListings += score.probability; ranked.append(score.probability) }
                    }
                    settings.progress?(summary.rows, false)
                }
                settings.progress?(summary.rows, true)
                // Pass 2: each staged home with its rank, in one sequential INSERT ... SELECT whose ranks
                // come from Swift functions over the sorted probabilities. (An UPDATE of ranks in place
                // took 21 s for 1M homes, it rewrites every row; inserting row by row through Swift 7 s.)
                let ranking = Ranking(probabilities: ranked)
                ranked = []
                try ranking.withSQLFunctions(db) {
                    try db.execute(sql: """
                        INSERT INTO scores (run_id, property_id, probability, rank, percentile, tier, on_market, reason1, reason2, reason3)
                        SELECT :run, property_id, probability, rank,
                               CASE WHEN rank IS NULL THEN NULL WHEN :n > 1 THEN 100.0 * ((:n - rank - tied + 1) + 0.5 * (tied - 1)) / (:n - 1)
                                    ELSE 100.0 END,
                               CASE WHEN rank IS NULL THEN NULL WHEN rank <= :high * :n THEN 'High'
                                    WHEN rank <= (:high + :medium) * :n THEN 'Medium' ELSE 'Low' END,
                               on_market, reason1, reason2, reason3
                        FROM (SELECT *, CASE WHEN on_market THEN NULL ELSE listwise_rank(probability) END AS rank,
                                        CASE WHEN on_market THEN NULL ELSE listwise_tied(probability) END AS tied
                              FROM score_staging ORDER BY property_id)
                        """, arguments: ["run": runID, "n": ranking.count, "high": settings.highShare, "medium": settings.mediumShare])
                }
                try db.execute(sql: "DROP TABLE score_staging")
                summary.tierCounts = ranking.tierCounts(high: settings.highShare, medium: settings.mediumShare)
                try db.execute(sql: "UPDATE score_runs SET finished_at = ?, rows = ?, on_market = ?, feature_counts = ? WHERE id = ?",
                               arguments: [Self.timestamp(Date()), summary.rows, summary.onMarket, try profileCounts?.json(), runID])
                try Self.recordEvent(.scoreRun(summary, settings: settings, now: Date()), db)
                return .commit
            }
        }
        if summary.rows == 0 { summary.warnings.append(ScoreWarnings.noHomes(settings)) }
        return summary
    }

    /// `parts` ranges of property ids with about as many homes each.
    static func propertyRanges(_ db: Database, parts: Int) throws -> [PropertyRange] {
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM properties") ?? 0
        return try PropertyRange.split(db, parts: parts, count: count, ids: "SELECT property_id FROM properties")
    }
}

extension AppDatabase {
    /// The run `id`, or the latest run (of `territory` when given). Usage error when there is none.
    public func scoreRun(id: Int64?, territory: String?) throws -> ScoreRunRecord {
        try read { db in
            if let id {
                // A cached statement: the Data API reads a cursor's run on every page.
                guard let run = try ScoreRunRecord.fetchOne(try db.cachedStatement(sql: "SELECT * FROM score_runs WHERE id = ?"), arguments: [id])
                else { throw ListwiseError.usage("no score run \(id)") }
                return run
            }
            var request = ScoreRunRecord.order(ScoreRunRecord.Columns.id.desc)
            if let territory { request = request.filter(ScoreRunRecord.Columns.territory == territory) }
            guard let run = try request.fetchOne(db) else {
                if let territory {
                    guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM territories WHERE name = ?)", arguments: [territory]) == true else {
                        throw ListwiseError.usage("no territory named '\(territory)': see 'listwise territory list'")
                    }
                    throw ListwiseError.usage("territory \(territory) has no score run of its own: run 'listwise score --territory \(territory)' first")
                }
                throw ListwiseError.usage("no score run: run 'listwise score' first")
            }
            return run
        }
    }

    /// Homes of a run by rank (on-market homes last), at most `limit`.
    public func scoredHomes(runID: Int64, limit: Int? = nil) throws -> [ScoredHome] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT s.property_id, p.address, p.zip, s.probability, s.rank, s.percentile, s.tier, s.on_market,
                       s.reason1, s.reason2, s.reason3
                FROM (SELECT * FROM scores WHERE run_id = ? ORDER BY rank IS NULL, rank, property_id LIMIT ?) s
                JOIN properties p ON p.property_id = s.property_id
                ORDER BY s.rank IS NULL, s.rank, s.property_id
                """, arguments: [runID, limit ?? -1])
            return rows.map { row in
                ScoredHome(propertyID: row["property_id"], address: row["address"], zip: row["zip"], probability: row["probability"],
                           rank: row["rank"], percentile: row["percentile"], tier: row["tier"], onMarket: row["on_market"],
                           reason1: row["reason1"], reason2: row["reason2"], reason3: row["reason3"])
            }
        }
    }
}

extension AppDatabase {
    /// The newest event date the imports recorded (a scan of the events when none did).
    public func newestEventDay() throws -> Int? {
        try read { db in
            if let date = try String.fetchOne(db, sql: "SELECT max(newest_event_date) FROM imports") { return DayNumber.parse(date) }
            return try Self.lastEventDay(in: db)
        }
    }

    /// One line when `run` started before the newest model in `modelsFolder` was written or
    /// before the newest import that changed data finished; nil when the run is fresh.
    public func stalenessWarning(for run: ScoreRunRecord, modelsFolder: String = "Models") throws -> String? {
        let lastImport = try read { db in
            try Row.fetchOne(db, sql: """
                SELECT file, finished_at FROM imports WHERE inserted + updated > 0 AND finished_at > ? ORDER BY finished_at DESC LIMIT 1
                """, arguments: [run.startedAt])
        }
        return Self.stalenessWarning(for: run, lastImport: lastImport.map { ($0["file"], $0["finished_at"]) }, modelsFolder: modelsFolder)
    }

    /// The warning, given the newest import that changed rows after the run started (file,
    /// finish time), whichever store it came from.
    static func stalenessWarning(for run: ScoreRunRecord, lastImport: (file: String, finishedAt: String)?, modelsFolder: String) -> String? {
        var newer: [String] = []
        let runStarted = ISO8601DateFormatter.listwise.date(from: run.startedAt) ?? .distantPast
        if let model = try? Self.newestModel(in: modelsFolder), model.date > runStarted {
            newer.append("the newest model (\(model.path), \(Self.timestamp(model.date).prefix(10)))")
        }
        if let (file, finished) = lastImport {
            newer.append("the newest import (\((file as NSString).lastPathComponent), \(finished.prefix(10)))")
        }
        guard !newer.isEmpty else { return nil }
        return "score run \(run.id) (\(run.territory ?? "all properties"), as of \(run.asOf), scored \(run.startedAt.prefix(10))) "
            + "is older than \(newer.joined(separator: " and ")): run '\(run.rescoreCommand)' or 'listwise refresh' to renew it"
    }
}

extension Ranking {
    /// Registers `listwise_rank(p)` and `listwise_tied(p)` on the connection until `body` returns.
    func withSQLFunctions<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try RawStatement.withFunctions(db, [("listwise_rank", { self.rank(of: $0) }), ("listwise_tied", { self.tiedCount(of: $0) })], body)
    }
}
