// Score runs (SPEC §3): every home in scope scored with a model as of a date, ranked within the
// scope, tiered, with reasons; one transaction per run.
import Foundation
import GRDB

public struct ScoreSettings: Sendable {
    public var asOfDay: Int
    public var territory: String?
    public var modelFile: String
    /// Share of ranked homes in the High tier, then in the Medium tier (SPEC: 20 % and 30 %).
    public var highShare = 0.2
    public var mediumShare = 0.3
    public var chunkRows = 50_000
    public var marketRates = MarketRates.standard

    public init(asOfDay: Int, territory: String? = nil, modelFile: String) {
        self.asOfDay = asOfDay
        self.territory = territory
        self.modelFile = modelFile
    }
}

public struct ScoreRunSummary: Codable, Equatable, Sendable {
    public var runID: Int64
    public var rows: Int
    public var onMarket: Int
    public var expectedListings: Double
    public var tierCounts: [String: Int]
    public var warnings: [String]
}

/// One home's score before it is written.
public struct HomeScore: Equatable, Sendable {
    public var propertyID: String
    public var probability: Double
    public var onMarket: Bool
    public var rank: Int?
    public var percentile: Double?
    public var tier: String?
    public var reasons: [String]
}

extension AppDatabase {
    /// Scores the homes in scope and stores the run, streaming: features come in chunks of
    /// `settings.chunkRows` homes, each chunk is scored with one design matrix and one `dgemv` and
    /// written at once; ranks, percentiles and tiers are then set by one SQL statement. Memory does
    /// not grow with the number of homes. The run is one transaction: all of it or nothing.
    public func score(model: LikelyToSellModel, settings: ScoreSettings) throws -> ScoreRunSummary {
        let started = Date()
        let scope = try settings.territory.map { try territory(named: $0).definition }
        let features = try model.rawFeatures()
        if features.contains(where: \.needsOwnerHistory), try !read({ try Bool.fetchOne($0, sql: "SELECT EXISTS (SELECT 1 FROM owners)") ?? false }) {
            throw ListwiseError.usage("the model needs owners.csv features, but the database has no owners")
        }
        var summary = ScoreRunSummary(runID: 0, rows: 0, onMarket: 0, expectedListings: 0, tierCounts: [:], warnings: [])
        let civil = DayNumber.civil(settings.asOfDay)
        if settings.marketRates.ratePercent(year: civil.year, month: civil.month).carried {
            summary.warnings.append("the as-of date is past the end of the market-rate table: its last rate was carried forward")
        }
        try writer.write { db in
            try db.execute(sql: """
                INSERT INTO score_runs (model_file, model_fingerprint, territory, as_of, horizon_days, started_at, finished_at, rows, on_market)
                VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)
                """, arguments: [settings.modelFile, model.trainingFingerprint, settings.territory, DayNumber.iso(settings.asOfDay),
                                 model.horizonDays, Self.timestamp(started), Self.timestamp(started)])
            let runID = db.lastInsertedRowID
            summary.runID = runID
            let insert = try db.makeStatement(sql: """
                INSERT INTO scores (run_id, property_id, probability, on_market, reason1, reason2, reason3) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            let featureSettings = FeatureSettings(asOfDays: [settings.asOfDay], horizonDays: model.horizonDays,
                                                  marketRates: settings.marketRates, includeOnMarket: true, scope: scope)
            try FeatureBuilder(settings: featureSettings, db: db).stream(chunkRows: settings.chunkRows) { chunk in
                for score in try Self.scoreChunk(chunk, model: model, features: features) {
                    let reasons = score.reasons.map { $0 as String? } + Array(repeating: nil, count: max(0, 3 - score.reasons.count))
                    try insert.execute(arguments: [runID, score.propertyID, score.probability, score.onMarket,
                                                   reasons[0], reasons[1], reasons[2]])
                    summary.rows += 1
                    if score.onMarket { summary.onMarket += 1 } else { summary.expectedListings += score.probability }
                }
            }
            try Self.rank(db, runID: runID, highShare: settings.highShare, mediumShare: settings.mediumShare)
            for row in try Row.fetchAll(db, sql: "SELECT tier, count(*) AS n FROM scores WHERE run_id = ? AND tier IS NOT NULL GROUP BY tier",
                                        arguments: [runID]) {
                summary.tierCounts[row["tier"]] = row["n"]
            }
            try db.execute(sql: "UPDATE score_runs SET finished_at = ?, rows = ?, on_market = ? WHERE id = ?",
                           arguments: [Self.timestamp(Date()), summary.rows, summary.onMarket, runID])
        }
        if summary.rows == 0 { summary.warnings.append("no homes to score\(settings.territory.map { " in territory \($0)" } ?? "")") }
        return summary
    }

    /// Probabilities and reasons of one chunk of feature rows (not yet ranked).
    static func scoreChunk(_ table: FeatureTable, model: LikelyToSellModel, features: [RawFeature]) throws -> [HomeScore] {
        var ranges: [Range<Int>] = []
        var offset = 0
        for transform in model.features {
            ranges.append(offset..<(offset + transform.columns.count))
            offset += transform.columns.count
        }
        let design = try DesignMatrix.build(table, transforms: model.features, rows: Array(0..<table.count))
        let eta = try BLAS.multiply(design, model.coefficients)
        return (0..<table.count).map { row in
            // Contribution of a feature: Σ coefficient × standardised value over its columns (0 at the training mean).
            let contributions = ranges.map { range in range.reduce(0.0) { $0 + model.coefficients[$1] * design[row, $1] } }
            let reasons = Reasons.top(contributions) { Reasons.phrase(features[$0], table.values[features[$0].rawValue][row]) }
            return HomeScore(propertyID: table.propertyIDs[row], probability: LogisticRegression.sigmoid(eta[row] + model.intercept),
                             onMarket: table.onMarket[row], rank: nil, percentile: nil, tier: nil, reasons: reasons)
        }
    }

    /// Ranks the run's homes that are not on the market by descending probability: competition
    /// ranks (ties share the best rank), percentile = 100·(homes below + ½·other tied homes)/(n − 1)
    /// (the top of n distinct homes is 100, the bottom 0), tier by rank against the shares.
    static func rank(_ db: Database, runID: Int64, highShare: Double, mediumShare: Double) throws {
        try db.execute(sql: """
            UPDATE scores SET rank = r.rank, percentile = r.percentile,
                tier = CASE WHEN r.rank <= :high * r.n THEN 'High' WHEN r.rank <= (:high + :medium) * r.n THEN 'Medium' ELSE 'Low' END
            FROM (
                SELECT property_id, rank,  n,
                       CASE WHEN n > 1 THEN 100.0 * ((n - rank - tied + 1) + 0.5 * (tied - 1)) / (n - 1) ELSE 100.0 END AS percentile
                FROM (
                    SELECT property_id,
                           rank() OVER (ORDER BY probability DESC) AS rank,
                           count(*) OVER (PARTITION BY probability) AS tied,
                           count(*) OVER () AS n
                    FROM scores WHERE run_id = :run AND on_market = 0
                )
            ) AS r
            WHERE scores.run_id = :run AND scores.property_id = r.property_id
            """, arguments: ["run": runID, "high": highShare, "medium": mediumShare])
    }
}
