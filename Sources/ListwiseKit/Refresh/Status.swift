// `listwise status`: what the database holds, what ran last, the active model and drift.
import Foundation

public struct StatusReport: Codable, Equatable, Sendable {
    public struct LastImport: Codable, Equatable, Sendable {
        public var file: String
        public var kind: String
        public var finishedAt: String
        public var rows: Int
        public var rejected: Int
        enum CodingKeys: String, CodingKey { case file, kind, finishedAt = "finished_at", rows, rejected }
    }

    public struct LastRefresh: Codable, Equatable, Sendable {
        public var startedAt: String
        public var finishedAt: String?
        public var status: String
        public var error: String?
        /// Measured campaigns whose results became significant with that refresh's data.
        public var campaignsBecameSignificant: [CampaignSignal] = []
        enum CodingKeys: String, CodingKey {
            case startedAt = "started_at", finishedAt = "finished_at", status, error, campaignsBecameSignificant = "campaigns_became_significant"
        }

        init(startedAt: String, finishedAt: String?, status: String, error: String?, report: String?) {
            (self.startedAt, self.finishedAt, self.status, self.error) = (startedAt, finishedAt, status, error)
            let recorded = report.flatMap { try? JSONDecoder().decode(RefreshReport.self, from: Data($0.utf8)) }
            campaignsBecameSignificant = recorded?.campaignsBecameSignificant ?? []
        }
    }

    public struct ActiveModel: Codable, Equatable, Sendable {
        public var file: String
        public var createdAt: String
        public var ageDays: Double
        public var validationAsOf: String
        public var rocAUC: Double
        public var logLoss: Double
        enum CodingKeys: String, CodingKey {
            case file, createdAt = "created_at", ageDays = "age_days", validationAsOf = "validation_as_of", rocAUC = "roc_auc"
            case logLoss = "log_loss"
        }
    }

    public struct FeatureDrift: Codable, Equatable, Sendable {
        public var feature: String
        public var psi: Double
        public var drifted: Bool
    }

    public var counts: DataCounts
    public var lastImport: LastImport?
    public var lastRefresh: LastRefresh?
    public var lastScoreRun: ScoreRunRecord?
    public var model: ActiveModel?
    /// PSI of each feature, training vs the latest score run of the active model; empty when
    /// there is none to compare (see `driftNote`).
    public var drift: [FeatureDrift]
    public var driftNote: String?

    enum CodingKeys: String, CodingKey {
        case counts, lastImport = "last_import", lastRefresh = "last_refresh", lastScoreRun = "last_score_run", model, drift
        case driftNote = "drift_note"
    }
}

/// What a store says for `status`: the rest is worked out from the model file.
struct StatusFacts {
    var counts: DataCounts
    var lastImport: StatusReport.LastImport?
    var lastRefresh: StatusReport.LastRefresh?
    var lastScoreRun: ScoreRunRecord?
    /// The latest run of the active model (by its training fingerprint).
    var modelRun: ScoreRunRecord?
}

extension StatusReport {
    /// The model file `modelFile` (nil: none found), read before the store is asked for its facts.
    static func activeModel(_ modelFile: String?) throws -> LikelyToSellModel? {
        try modelFile.map(LikelyToSellModel.load(path:))
    }

    /// The report from the store's facts and the active model (its file `modelFile`).
    static func build(_ facts: StatusFacts, model: LikelyToSellModel?, modelFile: String?, now: Date) -> StatusReport {
        var report = StatusReport(counts: facts.counts, lastImport: facts.lastImport, lastRefresh: facts.lastRefresh,
                                  lastScoreRun: facts.lastScoreRun, model: nil, drift: [], driftNote: nil)
        guard let model, let modelFile else {
            report.driftNote = "no model: train one with 'listwise train'"
            return report
        }
        let created = ISO8601DateFormatter.listwise.date(from: model.createdAt)
        report.model = .init(file: modelFile, createdAt: model.createdAt, ageDays: created.map { now.timeIntervalSince($0) / 86_400 } ?? .nan,
                             validationAsOf: model.validationAsOf, rocAUC: model.metrics.rocAUC, logLoss: model.metrics.logLoss)
        guard let profiles = model.featureProfiles else {
            report.driftNote = "the model file has no training profile (made by an older listwise): retrain to see drift"
            return report
        }
        guard let run = facts.modelRun, let json = run.featureCounts,
              let counts = try? JSONDecoder().decode([String: [Int]].self, from: Data(json.utf8)) else {
            report.driftNote = "no score run of this model yet: run 'listwise score'"
            return report
        }
        report.drift = profiles.compactMap { profile in
            guard let featureCounts = counts[profile.feature], let psi = Drift.psi(profile, counts: featureCounts) else { return nil }
            return StatusReport.FeatureDrift(feature: profile.feature, psi: psi, drifted: psi > Drift.threshold)
        }
        report.driftNote = "score run \(run.id) (as of \(run.asOf)) against the model's training snapshots"
        return report
    }
}

extension ISO8601DateFormatter {
    /// The timestamps listwise writes (ISO 8601 with fractional seconds, UTC).
    static var listwise: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
