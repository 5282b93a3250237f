// Score runs on a PostgreSQL store (SPEC §3, §7): one repeatable-read transaction reads the
// features through a cursor, scores each chunk with the same code as SQLite, COPYs the scores
// into a staging table between fetches, and one INSERT ... SELECT ranks them with window
// functions (ranks, percentiles and tiers as SQLite's run computes them).
import Foundation
import PostgresNIO

extension PostgresStore {
    public func score(model: LikelyToSellModel, settings: ScoreSettings) async throws -> ScoreRunSummary {
        let started = Date()
        var scope: TerritoryDefinition?
        if let name = settings.territory { scope = try await territory(named: name).definition }
        let features = try model.rawFeatures()
        let explainer = model.trees.map { TreeExplainer($0) }
        if features.contains(where: \.needsOwnerHistory), try await !hasOwnerHistory() {
            throw ListwiseError.usage("the model needs owners.csv features, but the database has no owners")
        }
        var summary = ScoreRunSummary(runID: 0, rows: 0, onMarket: 0, expectedListings: 0, tierCounts: [:], warnings: [])
        summary.warnings += ScoreWarnings.beforeRun(settings, newestEventDay: try await newestEventDay())
        let featureSettings = FeatureSettings(asOfDays: [settings.asOfDay], horizonDays: model.horizonDays,
                                              marketRates: settings.marketRates, includeOnMarket: true, scope: scope)
        let profileCounts = model.featureProfiles.map(ProfileCounts.init)
        let logger = self.logger
        do {
            try await inTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ") { connection in
                for try await id in try await connection.query("""
                    INSERT INTO score_runs (model_file, model_fingerprint, territory, as_of, horizon_days, started_at, finished_at, rows, on_market)
                    VALUES (\(settings.modelFile), \(model.trainingFingerprint), \(settings.territory), \(DayNumber.iso(settings.asOfDay))::date,
                            \(model.horizonDays), \(started), \(started), 0, 0)
                    RETURNING id
                    """, logger: logger).decode(Int64.self) {
                    summary.runID = id
                }
                try await connection.query("""
                    CREATE TEMP TABLE score_staging (
                        property_id text NOT NULL, probability double precision NOT NULL, on_market boolean NOT NULL,
                        reason1 text, reason2 text, reason3 text) ON COMMIT DROP
                    """, logger: logger)
                var ranked: [Double] = []
                var line = CopyLine(columns: 6)
                try await streamFeatures(featureSettings, on: connection, chunkRows: settings.chunkRows) { chunk in
                    profileCounts?.add(chunk)
                    let scored = try HomeScore.scores(of: chunk, model: model, features: features, explainer: explainer)
                    try await connection.copyFrom(table: "score_staging", columns: ["property_id", "probability", "on_market", "reason1", "reason2", "reason3"], logger: logger) { writer in
                        var buffer = ByteBuffer()
                        for score in scored {
                            line.reset()
                            line.text(1, score.propertyID)
                            line.double(2, score.probability)
                            line.literal(3, score.onMarket ? "t" : "f")
                            for (index, reason) in score.reasons.prefix(3).enumerated() {
                                line.text(Int32(4 + index), reason)
                            }
                            line.write(into: &buffer)
                            summary.rows += 1
                            if score.onMarket { summary.onMarket += 1 } else { summary.expectedListings += score.probability; ranked.append(score.probability) }
                        }
                        try await writer.write(buffer)
                    }
                    settings.progress?(summary.rows, false)
                }
                settings.progress?(summary.rows, true)
                let ranking = Ranking(probabilities: ranked)
                ranked = []
                let n = ranking.count, high = settings.highShare, medium = settings.mediumShare
                try await connection.query("""
                    INSERT INTO scores (run_id, property_id, probability, rank, percentile, tier, on_market, reason1, reason2, reason3)
                    SELECT \(summary.runID), property_id, probability, rank,
                           CASE WHEN rank IS NULL THEN NULL
                                WHEN \(n)::bigint > 1 THEN 100.0::float8 * ((\(n)::bigint - rank - tied + 1)::float8 + 0.5::float8 * (tied - 1)::float8)
                                                           / (\(n)::bigint - 1)::float8
                                ELSE 100.0 END,
                           CASE WHEN rank IS NULL THEN NULL WHEN rank <= \(high)::float8 * \(n)::bigint THEN 'High'
                                WHEN rank <= (\(high)::float8 + \(medium)::float8) * \(n)::bigint THEN 'Medium' ELSE 'Low' END,
                           on_market, reason1, reason2, reason3
                    FROM (SELECT s.*,
                                 CASE WHEN on_market THEN NULL ELSE rank() OVER (PARTITION BY on_market ORDER BY probability DESC) END AS rank,
                                 CASE WHEN on_market THEN NULL ELSE count(*) OVER (PARTITION BY on_market, probability) END AS tied
                          FROM score_staging s) r
                    """, logger: logger)
                summary.tierCounts = ranking.tierCounts(high: high, medium: medium)
                let featureCounts = try profileCounts?.json()
                try await connection.query("""
                    UPDATE score_runs SET finished_at = \(Date()), rows = \(summary.rows), on_market = \(summary.onMarket),
                           feature_counts = \(featureCounts)::jsonb
                    WHERE id = \(summary.runID)
                    """, logger: logger)
                try await self.recordEvent(.scoreRun(summary, settings: settings, now: Date()), on: connection)
            }
        } catch {
            throw describe(error)
        }
        if summary.rows == 0 { summary.warnings.append(ScoreWarnings.noHomes(settings)) }
        return summary
    }

    /// The newest event date the imports recorded (a scan of the events when none did).
    public func newestEventDay() async throws -> Int? {
        var day: Int?
        for try await value in try await client.execute(NewestImportedEventDayStatement(), logger: logger) { day = value }
        if day != nil { return day }
        return try await lastEventDay()
    }

    /// One line when `run` is older than the newest model or the newest import that changed rows.
    public func stalenessWarning(for run: ScoreRunRecord, modelsFolder: String = "Models") async throws -> String? {
        var lastImport: (file: String, finishedAt: String)?
        let rows = try await query("""
            SELECT file, \(unescaped: Self.timestampText("finished_at")) FROM imports
            WHERE inserted + updated > 0 AND finished_at > \(run.startedAt)::timestamptz ORDER BY finished_at DESC LIMIT 1
            """)
        for try await (file, finished) in rows.decode((String, String).self) { lastImport = (file, finished) }
        return AppDatabase.stalenessWarning(for: run, lastImport: lastImport, modelsFolder: modelsFolder)
    }

    /// The run `id`, or the latest run (of `territory` when given). Usage error when there is none.
    public func scoreRun(id: Int64?, territory: String?) async throws -> ScoreRunRecord {
        for try await run in try await client.execute(ScoreRunStatement(id: id, territory: territory), logger: logger) {
            return run
        }
        if let id { throw ListwiseError.usage("no score run \(id)") }
        if let territory {
            guard try await territories().contains(where: { $0.name == territory }) else {
                throw ListwiseError.usage("no territory named '\(territory)': see 'listwise territory list'")
            }
            throw ListwiseError.usage("territory \(territory) has no score run of its own: run 'listwise score --territory \(territory)' first")
        }
        throw ListwiseError.usage("no score run: run 'listwise score' first")
    }

    /// The first run `tail` (a WHERE ... ORDER BY ... LIMIT 1 over score_runs) selects.
    func fetchScoreRun(_ tail: PostgresQuery) async throws -> ScoreRunRecord? {
        var select = PostgresQuery(unsafeSQL: "SELECT \(ScoreRunColumns.list) FROM score_runs ")
        select.sql += tail.sql
        select.binds = tail.binds
        for try await row in try await query(select) {
            return try ScoreRunColumns.record(row)
        }
        return nil
    }

    /// Homes of a run by rank (on-market homes last, ties by property id in byte order, as on
    /// SQLite), at most `limit`.
    public func scoredHomes(runID: Int64, limit: Int? = nil) async throws -> [ScoredHome] {
        var homes: [ScoredHome] = []
        for try await home in try await client.execute(ScoredHomesStatement(runID: runID, limit: limit.map(Int64.init) ?? Int64.max), logger: logger) {
            homes.append(home)
        }
        return homes
    }
}
