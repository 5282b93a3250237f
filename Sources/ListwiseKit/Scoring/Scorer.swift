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

public enum Ranking {
    /// Competition ranks by descending probability among homes that are not on the market
    /// (ties share the best rank), percentile = 100·(below + ½·tied others)/(n − 1) (so the top
    /// home of n distinct is 100 and the bottom 0), tier by rank against the shares.
    public static func apply(_ scores: inout [HomeScore], highShare: Double, mediumShare: Double) {
        let ranked = scores.indices.filter { !scores[$0].onMarket }.sorted { scores[$0].probability > scores[$1].probability }
        let n = ranked.count
        var start = 0
        while start < n {
            var end = start
            while end < n, scores[ranked[end]].probability == scores[ranked[start]].probability { end += 1 }
            let tied = end - start, below = n - end
            let rank = start + 1
            let percentile = n > 1 ? 100 * (Double(below) + 0.5 * Double(tied - 1)) / Double(n - 1) : 100
            let tier = Double(rank) <= highShare * Double(n) ? "High"
                : Double(rank) <= (highShare + mediumShare) * Double(n) ? "Medium" : "Low"
            for index in ranked[start..<end] {
                scores[index].rank = rank
                scores[index].percentile = percentile
                scores[index].tier = tier
            }
            start = end
        }
    }
}

extension AppDatabase {
    /// Scores the homes in scope and stores the run; returns its summary.
    public func score(model: LikelyToSellModel, settings: ScoreSettings) throws -> ScoreRunSummary {
        let started = Date()
        var scope: Set<String>?
        if let name = settings.territory {
            scope = Set(try propertyIDs(in: try territory(named: name).definition))
        }
        let features = try model.rawFeatures()
        if features.contains(where: \.needsOwnerHistory), try !read({ try Bool.fetchOne($0, sql: "SELECT EXISTS (SELECT 1 FROM owners)") ?? false }) {
            throw ListwiseError.usage("the model needs owners.csv features, but the database has no owners")
        }
        let scores = try computeScores(model: model, settings: settings, scope: scope)
        var warnings: [String] = []
        if scores.isEmpty { warnings.append("no homes to score\(settings.territory.map { " in territory \($0)" } ?? "")") }
        let (_, carried) = settings.marketRates.ratePercent(year: DayNumber.civil(settings.asOfDay).year,
                                                            month: DayNumber.civil(settings.asOfDay).month)
        if carried { warnings.append("the as-of date is past the end of the market-rate table: its last rate was carried forward") }
        var summary = ScoreRunSummary(runID: 0, rows: scores.count, onMarket: scores.filter(\.onMarket).count,
                                      expectedListings: scores.filter { !$0.onMarket }.reduce(0) { $0 + $1.probability },
                                      tierCounts: [:], warnings: warnings)
        for score in scores { if let tier = score.tier { summary.tierCounts[tier, default: 0] += 1 } }
        try writer.write { db in
            try db.execute(sql: """
                INSERT INTO score_runs (model_file, model_fingerprint, territory, as_of, horizon_days, started_at, finished_at, rows, on_market)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [settings.modelFile, model.trainingFingerprint, settings.territory, DayNumber.iso(settings.asOfDay),
                                 model.horizonDays, Self.timestamp(started), Self.timestamp(Date()), scores.count, summary.onMarket])
            summary.runID = db.lastInsertedRowID
            let insert = try db.makeStatement(sql: """
                INSERT INTO scores (run_id, property_id, probability, rank, percentile, tier, on_market, reason1, reason2, reason3)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for score in scores {
                let reasons = score.reasons + Array(repeating: nil as String?, count: max(0, 3 - score.reasons.count))
                try insert.execute(arguments: [summary.runID, score.propertyID, score.probability, score.rank, score.percentile,
                                               score.tier, score.onMarket, reasons[0], reasons[1], reasons[2]])
            }
        }
        return summary
    }

    /// Probabilities, ranks, tiers and reasons of every home in `scope` (nil = all), computed in
    /// chunks of `settings.chunkRows` rows (one design matrix and one `dgemv` per chunk).
    public func computeScores(model: LikelyToSellModel, settings: ScoreSettings, scope: Set<String>?) throws -> [HomeScore] {
        let table = try buildFeatures(FeatureSettings(asOfDays: [settings.asOfDay], horizonDays: model.horizonDays,
                                                      marketRates: settings.marketRates, includeOnMarket: true))
        let rows = (0..<table.count).filter { scope?.contains(table.propertyIDs[$0]) ?? true }
        let features = try model.rawFeatures()
        // Column ranges of each transform in the design matrix.
        var ranges: [Range<Int>] = []
        var offset = 0
        for transform in model.features {
            ranges.append(offset..<(offset + transform.columns.count))
            offset += transform.columns.count
        }
        var scores: [HomeScore] = []
        scores.reserveCapacity(rows.count)
        var chunkStart = 0
        while chunkStart < rows.count {
            let chunk = Array(rows[chunkStart..<min(rows.count, chunkStart + max(1, settings.chunkRows))])
            let design = try DesignMatrix.build(table, transforms: model.features, rows: chunk)
            let eta = try BLAS.multiply(design, model.coefficients)
            for (k, row) in chunk.enumerated() {
                // Contribution of a feature: Σ coefficient × standardised value over its columns
                // (0 at the training mean).
                let contributions = ranges.map { range in
                    range.reduce(0.0) { $0 + model.coefficients[$1] * design[k, $1] }
                }
                let reasons = Reasons.top(contributions) { Reasons.phrase(features[$0], table.values[features[$0].rawValue][row]) }
                scores.append(HomeScore(propertyID: table.propertyIDs[row], probability: LogisticRegression.sigmoid(eta[k] + model.intercept),
                                        onMarket: table.onMarket[row], rank: nil, percentile: nil, tier: nil, reasons: reasons))
            }
            chunkStart += chunk.count
        }
        Ranking.apply(&scores, highShare: settings.highShare, mediumShare: settings.mediumShare)
        return scores
    }
}
