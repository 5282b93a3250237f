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
