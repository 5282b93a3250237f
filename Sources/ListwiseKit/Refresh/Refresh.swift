// `listwise refresh` (SPEC §5): new files in from an inbox, the model retrained when it is
// old (kept when the new one validates worse), every territory rescored; for cron.
import Foundation
import Logging

public struct RefreshSettings: Sendable {
    public var inbox: String
    /// Retrain when the active model is older than this many days; nil: never.
    public var retrainAfterDays: Int?
    /// Territories to rescore; empty: every property and every defined territory.
    public var territories: [String] = []
    /// Where models live; the newest .json is the active model.
    public var modelsFolder = "Models"
    public var asOfDay: Int
    public var now = Date()
    /// The market-rate table for features (`--market-rates`; default the bundled one).
    public var marketRates = MarketRates.standard
    /// How a retrain makes its model: `listwise train` with its defaults and these market rates
    /// (settable for tests).
    public var retrain: @Sendable (any Store, MarketRates) async throws -> LikelyToSellModel = { store, rates in
        var training = TrainingSettings()
        training.marketRates = rates
        return try await store.trainModel(training, progress: nil).model
    }

    public init(inbox: String, asOfDay: Int) {
        self.inbox = inbox
        self.asOfDay = asOfDay
    }
}

public struct RefreshReport: Codable, Equatable, Sendable {
    public var processed: [String] = []
    /// File name and why it was refused.
    public var failed: [String: String] = [:]
    public var retrained = false
    /// The model scoring used.
    public var model: String?
    public var keptOldModel = false
    public var scoreRuns: [Int64] = []
    public var staleLockTakenOver: Int32?
    /// Measured campaigns whose results became significant with this refresh's data (SPEC §11).
    public var campaignsBecameSignificant: [CampaignSignal]?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case processed, failed, retrained, model, keptOldModel = "kept_old_model", scoreRuns = "score_runs"
        case staleLockTakenOver = "stale_lock_taken_over", campaignsBecameSignificant = "campaigns_became_significant"
    }
}

/// A campaign and its result in words, as a refresh found it.
public struct CampaignSignal: Codable, Equatable, Sendable {
    public var campaign: String
    public var verdict: String
}

extension Store {
    /// Runs one refresh under the lock: imports, retrain, rescore. A file that cannot be
    /// imported goes to failed/ (with a .error file) and the rest goes on; the caller turns
    /// `report.failed` into exit code 1. Throws `lockHeld` when another refresh runs.
    public func refresh(_ settings: RefreshSettings, logger: Logger) async throws -> RefreshReport {
        try await withRefreshLock(now: settings.now, logger: logger) { staleOwner in
            try await refreshHoldingLock(settings, logger: logger, staleOwner: staleOwner)
        }
    }

    private func refreshHoldingLock(_ settings: RefreshSettings, logger: Logger, staleOwner: Int32?) async throws -> RefreshReport {
        var report = RefreshReport()
        report.staleLockTakenOver = staleOwner
        let started = Date()
        let runID = try await startRefreshRun(at: settings.now)
        do {
            // Which measured campaigns are significant before this refresh's events, to tell
            // `status` which became so with them.
            let significantBefore = Set(try await measuredCampaignResults().filter(\.significant).map(\.campaign))
            try await importInbox(settings, logger: logger, report: &report)
            let model = try await activeModel(settings, logger: logger, report: &report)
            // Without --territory: the county and every defined territory, so that no territory's
            // run (which exports and reports read) is left behind on an old model or old data.
            let scopes: [String?] = settings.territories.isEmpty
                ? [nil] + (try await territories().map { Optional.some($0.name) }) : settings.territories.map(Optional.some)
            for territory in scopes {
                let stepStarted = Date()
                var scoreSettings = ScoreSettings(asOfDay: settings.asOfDay, territory: territory, modelFile: model.path)
                scoreSettings.marketRates = settings.marketRates
                let summary = try await score(model: model.model, settings: scoreSettings)
                report.scoreRuns.append(summary.runID)
                logger.info("scored", metadata: ["step": "score", "territory": "\(territory ?? "all")", "run": "\(summary.runID)",
                                                 "homes": "\(summary.rows)", "seconds": AppDatabase.seconds(since: stepStarted)])
            }
            report.campaignsBecameSignificant = try await measuredCampaignResults()
                .filter { $0.significant && !significantBefore.contains($0.campaign) }
                .map { CampaignSignal(campaign: $0.campaign, verdict: $0.verdict) }
            for signal in report.campaignsBecameSignificant ?? [] {
                logger.info("campaign significant", metadata: ["step": "campaigns", "campaign": "\(signal.campaign)", "result": "\(signal.verdict)"])
            }
        } catch {
            try? await finishRefreshRun(runID, status: "failed", report: report, error: "\(error)")
            throw error
        }
        try await finishRefreshRun(runID, status: report.failed.isEmpty ? "ok" : "partial", report: report, error: nil)
        logger.info("refresh done", metadata: ["step": "refresh", "processed": "\(report.processed.count)", "failed": "\(report.failed.count)",
                                               "seconds": AppDatabase.seconds(since: started)])
        return report
    }

    /// Every CSV of the inbox, the four kinds in order (properties first), each moved to
    /// processed/ after its import or to failed/ with a `.error` file beside it.
    private func importInbox(_ settings: RefreshSettings, logger: Logger, report: inout RefreshReport) async throws {
        let fm = FileManager.default
        let inbox = settings.inbox
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: inbox, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ListwiseError.usage("inbox folder does not exist: \(inbox)")
        }
        for sub in ["processed", "failed"] {
            try fm.createDirectory(atPath: (inbox as NSString).appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let names = try fm.contentsOfDirectory(atPath: inbox).filter { $0.lowercased().hasSuffix(".csv") && !$0.hasPrefix(".") }.sorted()
        var files: [(name: String, kind: ImportKind?)] = names.map { name in
            let path = (inbox as NSString).appendingPathComponent(name)
            return (name, ImportKind.detect(fileName: name, header: CSVHeader.read(path: path)))
        }
        let order = { (kind: ImportKind?) in kind.flatMap { ImportKind.importOrder.firstIndex(of: $0) } ?? ImportKind.importOrder.count }
        files.sort { (order($0.kind), $0.name) < (order($1.kind), $1.name) }
        for (name, kind) in files {
            let path = (inbox as NSString).appendingPathComponent(name)
            let started = Date()
            do {
                guard let kind else {
                    throw ListwiseError.usage("\(name): cannot tell which kind of file this is (name it properties, owners, prospects or events, or give it their columns)")
                }
                var options = ImportOptions()
                options.rejectsPath = (inbox as NSString).appendingPathComponent("processed/\(name).rejects.csv")
                let summary = try await importFile(path, kind: kind, options: options, progress: nil)
                try AppDatabase.move(path, to: (inbox as NSString).appendingPathComponent("processed"))
                report.processed.append(name)
                logger.info("imported", metadata: ["step": "import", "file": "\(name)", "kind": "\(kind.rawValue)", "rows": "\(summary.rows)",
                                                   "inserted": "\(summary.inserted)", "updated": "\(summary.updated)",
                                                   "rejected": "\(summary.rejected)", "seconds": AppDatabase.seconds(since: started)])
            } catch let error as ListwiseError where error.exitCode == 2 {
                // Refused (not importable): moved aside with the reason, the refresh goes on.
                let failed = (inbox as NSString).appendingPathComponent("failed")
                try AppDatabase.move(path, to: failed)
                try Data((error.description + "\n").utf8).write(to: URL(fileURLWithPath: (failed as NSString).appendingPathComponent("\(name).error")))
                report.failed[name] = error.description
                logger.error("import refused", metadata: ["step": "import", "file": "\(name)", "error": "\(error.description)"])
            }
        }
    }

    /// The newest model of the models folder, retrained first when it is older than
    /// `retrainAfterDays`; a new model that validates worse (ROC AUC on its validation
    /// snapshot, the old model scored on the same homes) is not kept.
    private func activeModel(_ settings: RefreshSettings, logger: Logger, report: inout RefreshReport)
        async throws -> (path: String, model: LikelyToSellModel) {
        let newest = try? AppDatabase.newestModel(in: settings.modelsFolder)
        if newest == nil, settings.retrainAfterDays != nil {
            // No model yet, and retraining is allowed: the first one.
            let started = Date()
            let new = try await settings.retrain(self, settings.marketRates)
            let path = AppDatabase.newModelPath(settings)
            try new.write(to: path)
            report.retrained = true
            report.model = path
            logger.info("trained the first model", metadata: ["step": "train", "model": "\(path)",
                                                              "auc": "\(String(format: "%.4f", new.metrics.rocAUC))", "seconds": AppDatabase.seconds(since: started)])
            return (path, new)
        }
        let current = try newest ?? AppDatabase.newestModel(in: settings.modelsFolder)   // no model: the usage error
        let model = try LikelyToSellModel.load(path: current.path)
        report.model = current.path
        guard let days = settings.retrainAfterDays, settings.now.timeIntervalSince(current.date) > Double(days) * 86_400 else {
            return (current.path, model)
        }
        let started = Date()
        let new = try await settings.retrain(self, settings.marketRates)
        // Both models scored on the same homes: the new model's validation snapshot.
        let validationDay = DayNumber.parse(new.validationAsOf)
        let metrics = try await evaluateModels([new, model], asOfDay: validationDay, marketRates: settings.marketRates)
        let (newMetrics, old) = (metrics[0], metrics[1])
        report.retrained = true
        if newMetrics.rocAUC < old.rocAUC {
            report.keptOldModel = true
            logger.warning("new model validates worse: kept the old one", metadata: [
                "step": "train", "new_auc": "\(String(format: "%.4f", newMetrics.rocAUC))",
                "old_auc": "\(String(format: "%.4f", old.rocAUC))", "model": "\(current.path)", "seconds": AppDatabase.seconds(since: started)])
            return (current.path, model)
        }
        let path = AppDatabase.newModelPath(settings)
        try new.write(to: path)
        report.model = path
        logger.info("retrained", metadata: ["step": "train", "model": "\(path)", "auc": "\(String(format: "%.4f", newMetrics.rocAUC))",
                                            "old_auc": "\(String(format: "%.4f", old.rocAUC))", "seconds": AppDatabase.seconds(since: started)])
        return (path, new)
    }
}
