// `listwise refresh` (SPEC §5): new files in from an inbox, the model retrained when it is
// old (kept when the new one validates worse), every territory rescored; for cron.
import Foundation
import GRDB
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
    public var retrain: @Sendable (AppDatabase, MarketRates) throws -> LikelyToSellModel = { db, rates in
        var training = TrainingSettings()
        training.marketRates = rates
        return try db.trainModel(training).model
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

    enum CodingKeys: String, CodingKey {
        case processed, failed, retrained, model, keptOldModel = "kept_old_model", scoreRuns = "score_runs"
        case staleLockTakenOver = "stale_lock_taken_over"
    }
}

extension AppDatabase {
    /// Runs one refresh under the lock: imports, retrain, rescore. A file that cannot be
    /// imported goes to failed/ (with a .error file) and the rest goes on; the caller turns
    /// `report.failed` into exit code 1. Throws `lockHeld` when another refresh runs.
    public func refresh(_ settings: RefreshSettings, logger: Logger) throws -> RefreshReport {
        let lock = try RefreshLock(databasePath: path, now: settings.now)
        defer { lock.release() }
        var report = RefreshReport()
        report.staleLockTakenOver = lock.staleOwner
        if let stale = lock.staleOwner {
            logger.warning("stale lock taken over", metadata: ["step": "lock", "pid": "\(stale)", "lock": "\(lock.path)"])
        }
        let started = Date()
        let runID = try writer.write { db -> Int64 in
            // A run still 'running' here died without finishing (the lock was free).
            try db.execute(sql: "UPDATE refresh_runs SET status = 'failed', error = 'interrupted: the run was killed' WHERE status = 'running'")
            try db.execute(sql: "INSERT INTO refresh_runs (started_at, status) VALUES (?, 'running')",
                           arguments: [Self.timestamp(settings.now)])
            return db.lastInsertedRowID
        }
        do {
            try importInbox(settings, logger: logger, report: &report)
            let model = try activeModel(settings, logger: logger, report: &report)
            // Without --territory: the county and every defined territory, so that no territory's
            // run (which exports and reports read) is left behind on an old model or old data.
            let scopes: [String?] = settings.territories.isEmpty
                ? [nil] + (try territories().map { Optional.some($0.name) }) : settings.territories.map(Optional.some)
            for territory in scopes {
                let stepStarted = Date()
                var scoreSettings = ScoreSettings(asOfDay: settings.asOfDay, territory: territory, modelFile: model.path)
                scoreSettings.marketRates = settings.marketRates
                let summary = try score(model: model.model, settings: scoreSettings)
                report.scoreRuns.append(summary.runID)
                logger.info("scored", metadata: ["step": "score", "territory": "\(territory ?? "all")", "run": "\(summary.runID)",
                                                 "homes": "\(summary.rows)", "seconds": Self.seconds(since: stepStarted)])
            }
        } catch {
            try? finishRefreshRun(runID, status: "failed", report: report, error: "\(error)")
            throw error
        }
        try finishRefreshRun(runID, status: report.failed.isEmpty ? "ok" : "partial", report: report, error: nil)
        logger.info("refresh done", metadata: ["step": "refresh", "processed": "\(report.processed.count)", "failed": "\(report.failed.count)",
                                               "seconds": Self.seconds(since: started)])
        return report
    }

    static func seconds(since start: Date) -> Logger.MetadataValue {
        .string(String(format: "%.3f", Date().timeIntervalSince(start)))
    }

    private func finishRefreshRun(_ id: Int64, status: String, report: RefreshReport, error: String?) throws {
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        try writer.write { db in
            try db.execute(sql: "UPDATE refresh_runs SET finished_at = ?, status = ?, report = ?, error = ? WHERE id = ?",
                           arguments: [Self.timestamp(Date()), status, json, error, id])
        }
    }

    /// Every CSV of the inbox, the four kinds in order (properties first), each moved to
    /// processed/ after its import or to failed/ with a `.error` file beside it.
    private func importInbox(_ settings: RefreshSettings, logger: Logger, report: inout RefreshReport) throws {
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
                let summary = try importFile(path, kind: kind, options: options)
                try Self.move(path, to: (inbox as NSString).appendingPathComponent("processed"))
                report.processed.append(name)
                logger.info("imported", metadata: ["step": "import", "file": "\(name)", "kind": "\(kind.rawValue)", "rows": "\(summary.rows)",
                                                   "inserted": "\(summary.inserted)", "updated": "\(summary.updated)",
                                                   "rejected": "\(summary.rejected)", "seconds": Self.seconds(since: started)])
            } catch let error as ListwiseError where error.exitCode == 2 {
                // Refused (not importable): moved aside with the reason, the refresh goes on.
                let failed = (inbox as NSString).appendingPathComponent("failed")
                try Self.move(path, to: failed)
                try Data((error.description + "\n").utf8).write(to: URL(fileURLWithPath: (failed as NSString).appendingPathComponent("\(name).error")))
                report.failed[name] = error.description
                logger.error("import refused", metadata: ["step": "import", "file": "\(name)", "error": "\(error.description)"])
            }
        }
    }

    /// Moves `path` into `folder`, adding a timestamp when the name is taken.
    static func move(_ path: String, to folder: String) throws {
        let name = (path as NSString).lastPathComponent
        var target = (folder as NSString).appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: target) {
            target = (folder as NSString).appendingPathComponent("\(Int(Date().timeIntervalSince1970))-\(name)")
        }
        guard rename(path, target) == 0 else {
            throw ListwiseError.runtime("cannot move \(path) to \(folder): \(String(cString: strerror(errno)))")
        }
    }

    /// The newest model of the models folder, retrained first when it is older than
    /// `retrainAfterDays`; a new model that validates worse (ROC AUC on its validation
    /// snapshot, the old model scored on the same homes) is not kept.
    private func activeModel(_ settings: RefreshSettings, logger: Logger, report: inout RefreshReport)
        throws -> (path: String, model: LikelyToSellModel) {
        let newest = try? Self.newestModel(in: settings.modelsFolder)
        if newest == nil, settings.retrainAfterDays != nil {
            // No model yet, and retraining is allowed: the first one.
            let started = Date()
            let new = try settings.retrain(self, settings.marketRates)
            let path = Self.newModelPath(settings)
            try new.write(to: path)
            report.retrained = true
            report.model = path
            logger.info("trained the first model", metadata: ["step": "train", "model": "\(path)",
                                                              "auc": "\(String(format: "%.4f", new.metrics.rocAUC))", "seconds": Self.seconds(since: started)])
            return (path, new)
        }
        let current = try newest ?? Self.newestModel(in: settings.modelsFolder)   // no model: the usage error
        let model = try LikelyToSellModel.load(path: current.path)
        report.model = current.path
        guard let days = settings.retrainAfterDays, settings.now.timeIntervalSince(current.date) > Double(days) * 86_400 else {
            return (current.path, model)
        }
        let started = Date()
        let new = try settings.retrain(self, settings.marketRates)
        // Both models scored on the same homes: the new model's validation snapshot.
        let validationDay = DayNumber.parse(new.validationAsOf)
        let metrics = try evaluateModels([new, model], asOfDay: validationDay, marketRates: settings.marketRates)
        let (newMetrics, old) = (metrics[0], metrics[1])
        report.retrained = true
        if newMetrics.rocAUC < old.rocAUC {
            report.keptOldModel = true
            logger.warning("new model validates worse: kept the old one", metadata: [
                "step": "train", "new_auc": "\(String(format: "%.4f", newMetrics.rocAUC))",
                "old_auc": "\(String(format: "%.4f", old.rocAUC))", "model": "\(current.path)", "seconds": Self.seconds(since: started)])
            return (current.path, model)
        }
        let path = Self.newModelPath(settings)
        try new.write(to: path)
        report.model = path
        logger.info("retrained", metadata: ["step": "train", "model": "\(path)", "auc": "\(String(format: "%.4f", newMetrics.rocAUC))",
                                            "old_auc": "\(String(format: "%.4f", old.rocAUC))", "seconds": Self.seconds(since: started)])
        return (path, new)
    }

    static func newModelPath(_ settings: RefreshSettings) -> String {
        let stamp = Self.timestamp(settings.now).prefix(19).replacingOccurrences(of: ":", with: "")
        return (settings.modelsFolder as NSString).appendingPathComponent("model-\(stamp).json")
    }

    /// The newest .json model in `folder` (by modification time) and its time.
    public static func newestModel(in folder: String) throws -> (path: String, date: Date) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.filter { $0.hasSuffix(".json") } ?? []
        let dated = names.map { name -> (String, Date) in
            let path = (folder as NSString).appendingPathComponent(name)
            return (path, (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast)
        }
        guard let newest = dated.max(by: { $0.1 < $1.1 }) else {
            throw ListwiseError.usage("no model in \(folder)/: train one with 'listwise train' first")
        }
        return newest
    }
}
