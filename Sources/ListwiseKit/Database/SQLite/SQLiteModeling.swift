// Training on the SQLite store (SPEC §2): the feature pass over one snapshot of the file, and the
// model fit on it.
import Foundation
import GRDB

extension AppDatabase {
    /// The last event date in the database, as a day number.
    public func lastEventDay() throws -> Int? {
        try read { db in try Self.lastEventDay(in: db) }
    }

    /// The newest event date the imports recorded (each import notes the newest of its rows;
    /// migration v6 filled it in for older ones), else the newest event: `max(event_date)` is a
    /// scan of the events (keyed by property first), 0.66 s at 1M homes, a third of a score run's
    /// time before its first chunk.
    static func lastEventDay(in db: Database) throws -> Int? {
        if let date = try String.fetchOne(db, sql: "SELECT max(newest_event_date) FROM imports") { return DayNumber.parse(date) }
        return try String.fetchOne(db, sql: "SELECT max(event_date) FROM events").flatMap(DayNumber.parse)
    }

    /// Whether the database has an ownership history (owners.csv).
    static func hasOwnerHistory(in db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM owners)") ?? false
    }

    /// Builds the features of every snapshot in one pass over the database (see file comment),
    /// all rows in memory (training needs them all).
    public func buildFeatures(_ settings: FeatureSettings, progress: ((Int) -> Void)? = nil) throws -> FeatureTable {
        try read { db in try FeatureBuilder(settings: settings, db: db).build(progress: progress) }
    }

    /// The same rows handed over in chunks of at most `chunkRows`, so that memory does not grow
    /// with the number of homes: the zip listing rates, which need every home, are counted first
    /// by SQL, then one pass computes the features. Both read one consistent snapshot.
    public func streamFeatures(_ settings: FeatureSettings, chunkRows: Int,
                               _ body: (FeatureTable) throws -> Void) throws {
        try read { db in
            let builder = try FeatureBuilder(settings: settings, db: db)
            try builder.stream(chunkRows: max(1, chunkRows), body)
        }
    }
}

extension AppDatabase {
    /// Builds the snapshots' features, chooses the penalty on the inner split when asked, fits
    /// on every training snapshot, validates once out of time at T, and returns the model.
    public func trainModel(_ settings: TrainingSettings, progress: ((String) -> Void)? = nil) throws -> TrainingResult {
        let started = Date()
        let plan = try TrainingPlan(settings, dataEnd: try lastEventDay())
        progress?("building features for \(plan.asOfDays.map(DayNumber.iso).joined(separator: ", "))")
        let rows = try TrainingRows()
        // The readers start inside a write transaction, which ends as soon as each has made its
        // first read: they all read one state of the data, and imports wait only that long.
        let readers = try writeWithoutTransaction { db in
            var readers: FeatureReaders<FeatureTable>?
            try db.inTransaction(.immediate) {
                readers = try startFeatureReaders(db, settings: plan.featureSettings(settings), workers: settings.workers,
                                                  chunkRows: settings.featureChunkRows) { $0 }
                return .commit
            }
            return readers!
        }
        try readers.forEach { part, chunk in
            try rows.append(chunk, part: part)
            progress?("features (\(plan.asOfDays.count) snapshots): \(rows.count) rows")
        }
        let features = TrainingPhase(name: "features", seconds: Date().timeIntervalSince(started))
        var result = try Training.fit(rows, plan: plan, settings: settings, progress: progress)
        result.phases.insert(features, at: 0)
        return result
    }

    /// Re-scores a labelled snapshot with `model` and returns the metrics.
    public func evaluateModel(_ model: LikelyToSellModel, asOfDay: Int?, marketRates: MarketRates = .standard) throws -> ModelMetrics {
        try evaluateModels([model], asOfDay: asOfDay, marketRates: marketRates)[0]
    }

    /// The metrics of several models (of the same horizon) on one labelled snapshot, its
    /// features built once (default date: the first model's validation snapshot).
    public func evaluateModels(_ models: [LikelyToSellModel], asOfDay: Int?, marketRates: MarketRates = .standard) throws -> [ModelMetrics] {
        guard let model = models.first else { return [] }
        let dataEnd = try lastEventDay()
        let day = try evaluationDay(models, asOfDay: asOfDay, dataEnd: dataEnd)
        let table = try buildFeatures(FeatureSettings(asOfDays: [day], horizonDays: model.horizonDays, marketRates: marketRates,
                                                      dataEndDay: dataEnd))
        return try Training.evaluate(models, on: table, day: day)
    }
}
