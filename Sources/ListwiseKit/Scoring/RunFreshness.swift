// Whether a score run still describes today's model and data (SPEC §5: a command that reads a
// score run older than the newest model or import says so), and the command that renews it.
import Foundation
import GRDB

extension ScoreRunRecord {
    /// The command that scores this run's scope again.
    public var rescoreCommand: String {
        territory.map { "listwise score --territory \($0)" } ?? "listwise score"
    }
}

extension AppDatabase {
    /// The newest event date the imports recorded (a scan of the events when none did).
    public func newestEventDay() throws -> Int? {
        try read { db in
            if let date = try String.fetchOne(db, sql: "SELECT max(newest_event_date) FROM imports") { return DayNumber.parse(date) }
            return try Self.lastEventDay(in: db)
        }
    }

    /// How many days past the data an as-of date may be before `score` warns.
    public static let staleAsOfDays = 90

    /// A warning when `asOfDay` is more than `staleAsOfDays` past the newest event.
    func asOfPastDataWarning(_ asOfDay: Int) throws -> String? {
        guard let newest = try newestEventDay(), asOfDay - newest > Self.staleAsOfDays else { return nil }
        return Self.asOfPastDataWarning(asOfDay: asOfDay, newest: newest)
    }

    static func asOfPastDataWarning(asOfDay: Int, newest: Int) -> String {
        "the as-of date \(DayNumber.iso(asOfDay)) is \(asOfDay - newest) days past the newest event: scores describe data that ends on \(DayNumber.iso(newest)); import newer events or give --as-of"
    }

    /// One line when `run` started before the newest model in `modelsFolder` was written or
    /// before the newest import that changed data finished; nil when the run is fresh.
    public func stalenessWarning(for run: ScoreRunRecord, modelsFolder: String = "Models") throws -> String? {
        let lastImport = try read { db in
            try Row.fetchOne(db, sql: """
                SELECT file, finished_at FROM imports WHERE inserted + updated > 0 AND finished_at > ? ORDER BY finished_at DESC LIMIT 1
                """, arguments: [run.startedAt])
        }
        return Self.stalenessWarning(for: run, lastImport: lastImport.map { ($0["file"], $0["finished_at"]) }, modelsFolder: modelsFolder)
    }

    /// The warning, given the newest import that changed rows after the run started (file,
    /// finish time), whichever store it came from.
    static func stalenessWarning(for run: ScoreRunRecord, lastImport: (file: String, finishedAt: String)?, modelsFolder: String) -> String? {
        var newer: [String] = []
        let runStarted = ISO8601DateFormatter.listwise.date(from: run.startedAt) ?? .distantPast
        if let model = try? Self.newestModel(in: modelsFolder), model.date > runStarted {
            newer.append("the newest model (\(model.path), \(Self.timestamp(model.date).prefix(10)))")
        }
        if let (file, finished) = lastImport {
            newer.append("the newest import (\((file as NSString).lastPathComponent), \(finished.prefix(10)))")
        }
        guard !newer.isEmpty else { return nil }
        return "score run \(run.id) (\(run.territory ?? "all properties"), as of \(run.asOf), scored \(run.startedAt.prefix(10))) "
            + "is older than \(newer.joined(separator: " and ")): run '\(run.rescoreCommand)' or 'listwise refresh' to renew it"
    }
}
