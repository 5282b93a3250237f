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

/// One home's score before it is ranked and written.
struct HomeScore: Equatable, Sendable {
    var propertyID: String
    var probability: Double
    var onMarket: Bool
    var reasons: [String]
}

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
            // Pass 1: scores and reasons to a staging table, probabilities kept (8 bytes a home) for ranking.
            try db.execute(sql: """
                CREATE TEMP TABLE IF NOT EXISTS score_staging (
                    property_id TEXT PRIMARY KEY NOT NULL, probability REAL NOT NULL, on_market INTEGER NOT NULL,
                    reason1 TEXT, reason2 TEXT, reason3 TEXT) WITHOUT ROWID;
                DELETE FROM score_staging;
                """)
            let stage = try RawInsert(db, sql: "INSERT INTO score_staging VALUES (?, ?, ?, ?, ?, ?)")
            var ranked: [Double] = []
            let featureSettings = FeatureSettings(asOfDays: [settings.asOfDay], horizonDays: model.horizonDays,
                                                  marketRates: settings.marketRates, includeOnMarket: true, scope: scope)
            try FeatureBuilder(settings: featureSettings, db: db).stream(chunkRows: settings.chunkRows) { chunk in
                for score in try Self.scoreChunk(chunk, model: model, features: features) {
                    let reasons = score.reasons.map { $0 as String? } + Array(repeating: nil, count: max(0, 3 - score.reasons.count))
                    try stage.run([.text(score.propertyID), .double(score.probability), .integer(score.onMarket ? 1 : 0),
                                   .text(reasons[0]), .text(reasons[1]), .text(reasons[2])])
                    summary.rows += 1
                    if score.onMarket { summary.onMarket += 1 } else { summary.expectedListings += score.probability; ranked.append(score.probability) }
                }
            }
            // Pass 2: each staged home with its rank, in one sequential INSERT ... SELECT whose ranks
            // come from Swift functions over the sorted probabilities. (An UPDATE of ranks in place
            // took 21 s for 1M homes, it rewrites every row; inserting row by row through Swift 7 s.)
            let ranking = Ranking(probabilities: ranked)
            ranked = []
            let (rankFunction, tiedFunction) = ranking.sqlFunctions()
            db.add(function: rankFunction)
            db.add(function: tiedFunction)
            defer { db.remove(function: rankFunction); db.remove(function: tiedFunction) }
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
            try db.execute(sql: "DROP TABLE score_staging")
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
                             onMarket: table.onMarket[row], reasons: reasons)
        }
    }
}

/// Competition ranks among the homes that are not on the market, by descending probability
/// (ties share the best rank), from a sorted copy of their probabilities (8 bytes a home). The
/// score run turns rank and tie count into percentile = 100·(homes below + ½·other tied homes)/(n − 1)
/// (the top of n distinct homes is 100, the bottom 0) and the tier by rank against the shares.
struct Ranking: Sendable {
    private let descending: [Double]

    init(probabilities: [Double]) {
        descending = probabilities.sorted(by: >)
    }

    var count: Int { descending.count }

    /// Index of the first element for which `belongs` is false (the elements where it holds come first).
    private func boundary(_ belongs: (Double) -> Bool) -> Int {
        var low = 0, high = descending.count
        while low < high {
            let mid = (low + high) / 2
            if belongs(descending[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    func rank(of probability: Double) -> Int { boundary { $0 > probability } + 1 }

    /// `listwise_rank(p)` and `listwise_tied(p)` for SQL. (Built here, outside the score run's
    /// nested closures: written inline there, Swift 6.3's optimiser crashed in CopyPropagation.)
    func sqlFunctions() -> (rank: DatabaseFunction, tied: DatabaseFunction) {
        let ranking = self
        let rank = DatabaseFunction("listwise_rank", argumentCount: 1, pure: true) { values -> Int? in
            guard let probability = Double.fromDatabaseValue(values[0]) else { return nil }
            return ranking.rank(of: probability)
        }
        let tied = DatabaseFunction("listwise_tied", argumentCount: 1, pure: true) { values -> Int? in
            guard let probability = Double.fromDatabaseValue(values[0]) else { return nil }
            return ranking.tiedCount(of: probability)
        }
        return (rank, tied)
    }

    /// How many homes share `probability`.
    func tiedCount(of probability: Double) -> Int {
        boundary { $0 >= probability } - boundary { $0 > probability }
    }
}
