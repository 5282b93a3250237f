// Refresh runs and status on the SQLite store (SPEC §5).
import Foundation
import GRDB
import Logging

extension AppDatabase {
    /// The refresh lock of an SQLite database: a lock file beside it (RefreshLock).
    public func withRefreshLock<T>(now: Date, logger: Logger, _ body: (Int32?) async throws -> T) async throws -> T {
        let lock = try RefreshLock(databasePath: path, now: now)
        if let stale = lock.staleOwner {
            logger.warning("stale lock taken over", metadata: ["step": "lock", "pid": "\(stale)", "lock": "\(lock.path)"])
        }
        do {
            let value = try await body(lock.staleOwner)
            lock.release()
            return value
        } catch {
            lock.release()
            throw error
        }
    }

    /// Records a refresh run as running; a run still 'running' here died without finishing (the
    /// lock was free).
    public func startRefreshRun(at now: Date) throws -> Int64 {
        try write { db -> Int64 in
            // A killed run never said it failed: its refresh.failed event goes now.
            for id in try Int64.fetchAll(db, sql: "SELECT id FROM refresh_runs WHERE status = 'running' ORDER BY id") {
                try Self.recordEvent(.refresh(id: id, status: "failed", report: RefreshReport(), error: Self.interrupted, now: now), db)
            }
            try db.execute(sql: "UPDATE refresh_runs SET status = 'failed', error = ? WHERE status = 'running'", arguments: [Self.interrupted])
            try db.execute(sql: "INSERT INTO refresh_runs (started_at, status) VALUES (?, 'running')", arguments: [Self.timestamp(now)])
            return db.lastInsertedRowID
        }
    }

    static let interrupted = "interrupted: the run was killed"

    static func seconds(since start: Date) -> Logger.MetadataValue {
        .string(String(format: "%.3f", Date().timeIntervalSince(start)))
    }

    public func finishRefreshRun(_ id: Int64, status: String, report: RefreshReport, error: String?) throws {
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        try write { db in
            try db.execute(sql: "UPDATE refresh_runs SET finished_at = ?, status = ?, report = ?, error = ? WHERE id = ?",
                           arguments: [Self.timestamp(Date()), status, json, error, id])
            try Self.recordEvent(.refresh(id: id, status: status, report: report, error: error, now: Date()), db)
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

extension AppDatabase {
    /// The status, with the model file `modelFile` (nil: none found) as the active model.
    public func status(modelFile: String?, now: Date = Date()) throws -> StatusReport {
        let model = try StatusReport.activeModel(modelFile)
        let counts = try dataCounts()
        let facts = try read { db in
            StatusFacts(
                counts: counts,
                lastImport: try Row.fetchOne(db, sql: "SELECT file, kind, finished_at, rows, rejected FROM imports ORDER BY id DESC LIMIT 1")
                    .map { StatusReport.LastImport(file: $0["file"], kind: $0["kind"], finishedAt: $0["finished_at"], rows: $0["rows"], rejected: $0["rejected"]) },
                lastRefresh: try Row.fetchOne(db, sql: "SELECT started_at, finished_at, status, error, report FROM refresh_runs ORDER BY id DESC LIMIT 1")
                    .map { StatusReport.LastRefresh(startedAt: $0["started_at"], finishedAt: $0["finished_at"], status: $0["status"], error: $0["error"],
                                                    report: $0["report"]) },
                lastScoreRun: try ScoreRunRecord.order(ScoreRunRecord.Columns.id.desc).fetchOne(db),
                modelRun: try model.flatMap { model in
                    try ScoreRunRecord.filter(ScoreRunRecord.Columns.modelFingerprint == model.trainingFingerprint)
                        .order(ScoreRunRecord.Columns.id.desc).fetchOne(db)
                })
        }
        return StatusReport.build(facts, model: model, modelFile: modelFile, now: now)
    }
}
