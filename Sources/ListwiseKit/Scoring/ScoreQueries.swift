// Reading score runs back: `listwise scores`, reports and exports.
import Foundation
import GRDB

public struct ScoreRunRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "score_runs"
    public var id: Int64
    public var modelFile: String
    public var modelFingerprint: String
    public var territory: String?
    public var asOf: String
    public var horizonDays: Int
    public var startedAt: String
    public var finishedAt: String
    public var rows: Int
    public var onMarket: Int
    /// JSON {feature: [homes per training-profile bin]}; nil for runs of models without profiles.
    public var featureCounts: String?

    public enum CodingKeys: String, CodingKey, ColumnExpression {
        case id, modelFile = "model_file", modelFingerprint = "model_fingerprint", territory, asOf = "as_of"
        case horizonDays = "horizon_days", startedAt = "started_at", finishedAt = "finished_at", rows, onMarket = "on_market"
        case featureCounts = "feature_counts"
    }
    public typealias Columns = CodingKeys
}

/// One row of `listwise scores`.
public struct ScoredHome: Codable, Equatable, Sendable {
    public var propertyID: String
    public var address: String
    public var zip: String
    public var probability: Double
    public var rank: Int?
    public var percentile: Double?
    public var tier: String?
    public var onMarket: Bool
    public var reason1: String?
    public var reason2: String?
    public var reason3: String?

    public enum CodingKeys: String, CodingKey {
        case propertyID = "property_id", address, zip, probability, rank, percentile, tier, onMarket = "on_market"
        case reason1, reason2, reason3
    }
}

extension AppDatabase {
    /// The run `id`, or the latest run (of `territory` when given). Usage error when there is none.
    public func scoreRun(id: Int64?, territory: String?) throws -> ScoreRunRecord {
        try read { db in
            if let id {
                guard let run = try ScoreRunRecord.fetchOne(db, key: id) else { throw ListwiseError.usage("no score run \(id)") }
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
