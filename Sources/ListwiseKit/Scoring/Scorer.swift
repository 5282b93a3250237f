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
    /// Threads that read features and score (each over its own share of the property ids, on its
    /// own read-only connection) while the writer stages their scores.
    public var workers = min(2, max(1, ProcessInfo.processInfo.activeProcessorCount))
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
        if let warning = try asOfPastDataWarning(settings.asOfDay) { summary.warnings.append(warning) }
        // Foreign keys are off for the run: every score's property comes from the properties table
        // itself, and the check (a properties lookup a row) was 1.5 s of a 1M-home run.
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
            try db.inTransaction(.immediate) {
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
                let stage = try RawStatement(db, sql: "INSERT INTO score_staging VALUES (?, ?, ?, ?, ?, ?)", persistent: true)
                var ranked: [Double] = []
                let featureSettings = FeatureSettings(asOfDays: [settings.asOfDay], horizonDays: model.horizonDays,
                                                      marketRates: settings.marketRates, includeOnMarket: true, scope: scope)
                let profileCounts = model.featureProfiles.map(ProfileCounts.init)
                try forEachScoredChunk(db, settings: featureSettings, model: model, features: features, workers: settings.workers,
                                       chunkRows: settings.chunkRows, profileCounts: profileCounts) { scored in
                    for score in scored {
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
                try ranking.withSQLFunctions(db) {
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
                }
                try db.execute(sql: "DROP TABLE score_staging")
                summary.tierCounts = ranking.tierCounts(high: settings.highShare, medium: settings.mediumShare)
                try db.execute(sql: "UPDATE score_runs SET finished_at = ?, rows = ?, on_market = ?, feature_counts = ? WHERE id = ?",
                               arguments: [Self.timestamp(Date()), summary.rows, summary.onMarket, try profileCounts?.json(), runID])
                return .commit
            }
        }
        if summary.rows == 0 { summary.warnings.append("no homes to score\(settings.territory.map { " in territory \($0)" } ?? "")") }
        return summary
    }

    /// Scores every home in scope, `workers` threads each streaming the features of its share of
    /// the property ids from its own read-only connection, and hands each scored chunk to `body`
    /// on this (the writer's) thread. The caller holds the write lock (BEGIN IMMEDIATE), so no
    /// import can commit between the readers' starts: they all see the same data. With 2 workers
    /// on 2 cores a 1M-home pass took 12 s where one thread took 19 s.
    private func forEachScoredChunk(_ db: Database, settings: FeatureSettings, model: LikelyToSellModel, features: [RawFeature],
                                    workers: Int, chunkRows: Int, profileCounts: ProfileCounts?,
                                    _ body: ([HomeScore]) throws -> Void) throws {
        let zipBuilder = try FeatureBuilder(settings: settings, db: db)
        try zipBuilder.countZipsForStreaming()
        let zips = zipBuilder.zips
        var workerSettings = settings
        workerSettings.dataEndDay = zipBuilder.table.dataEndDay   // read once (an index scan), not once a worker
        let readSettings = workerSettings
        let ranges = try Self.propertyRanges(db, parts: workers)
        let channel = ScoredChunks(producers: ranges.count, capacity: ranges.count + 1)
        for range in ranges {
            DispatchQueue.global().async {
                do {
                    try self.read { readerDB in
                        // A small page cache: the pass reads sequentially, and the pool's 64 MiB a
                        // connection, twice, pushed the run's peak from 195 to 374 MB.
                        try readerDB.execute(sql: "PRAGMA cache_size = -4096")
                        defer { try? readerDB.execute(sql: "PRAGMA cache_size = -65536") }
                        let builder = try FeatureBuilder(settings: readSettings, db: readerDB)
                        builder.zips = zips
                        try builder.stream(chunkRows: chunkRows, range: range) { chunk in
                            profileCounts?.add(chunk)
                            try channel.put(try HomeScore.scores(of: chunk, model: model, features: features))
                        }
                    }
                    channel.finish(nil)
                } catch {
                    channel.finish(error)
                }
            }
        }
        do {
            while let chunk = try channel.next() { try body(chunk) }
        } catch {
            channel.cancelAndWait()
            throw error
        }
    }

    /// `parts` ranges of property ids with about as many homes each.
    static func propertyRanges(_ db: Database, parts: Int) throws -> [PropertyRange] {
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM properties") ?? 0
        return try PropertyRange.split(db, parts: parts, count: count, ids: "SELECT property_id FROM properties")
    }
}

extension HomeScore {
    /// Probabilities and reasons of one chunk of feature rows (not yet ranked).
    static func scores(of table: FeatureTable, model: LikelyToSellModel, features: [RawFeature]) throws -> [HomeScore] {
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

    /// Registers `listwise_rank(p)` and `listwise_tied(p)` on the connection until `body` returns.
    func withSQLFunctions<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try RawStatement.withFunctions(db, [("listwise_rank", { self.rank(of: $0) }), ("listwise_tied", { self.tiedCount(of: $0) })], body)
    }

    /// Homes per tier, as the score run's SQL assigns them (rank ≤ high·n: High, ≤ (high + medium)·n:
    /// Medium, else Low); tiers without homes are left out. (Counted here: a GROUP BY over the
    /// written scores took 0.6 s at 1M homes.)
    func tierCounts(high: Double, medium: Double) -> [String: Int] {
        var counts: [String: Int] = [:]
        let n = Double(descending.count)
        var rank = 0
        for (index, probability) in descending.enumerated() {
            if index == 0 || probability != descending[index - 1] { rank = index + 1 }
            let tier = Double(rank) <= high * n ? "High" : Double(rank) <= (high + medium) * n ? "Medium" : "Low"
            counts[tier, default: 0] += 1
        }
        return counts
    }

    /// How many homes share `probability`.
    func tiedCount(of probability: Double) -> Int {
        boundary { $0 >= probability } - boundary { $0 > probability }
    }
}

/// Scored chunks on their way from the feature threads to the writer: a bounded queue (at most
/// `capacity` chunks wait, so memory stays bounded) that ends when every producer has finished.
final class ScoredChunks: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [[HomeScore]] = []
    private var running: Int
    private let capacity: Int
    private var failure: (any Error)?
    private var cancelled = false

    init(producers: Int, capacity: Int) {
        running = producers
        self.capacity = capacity
    }

    /// Waits for room; throws when the consumer has given up.
    func put(_ chunk: [HomeScore]) throws {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity, !cancelled { condition.wait() }
        if cancelled { throw CancellationError() }
        queue.append(chunk)
        condition.broadcast()
    }

    /// A producer is done, with the error that stopped it, if any.
    func finish(_ error: (any Error)?) {
        condition.lock()
        defer { condition.unlock() }
        running -= 1
        if let error, failure == nil, !(error is CancellationError) { failure = error }
        if error != nil { cancelled = true }
        condition.broadcast()
    }

    /// The next chunk; nil when every producer has finished; the first producer error, if any.
    func next() throws -> [HomeScore]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty, running > 0, failure == nil { condition.wait() }
        if let failure {
            cancelled = true
            condition.broadcast()
            while running > 0 { condition.wait() }
            throw failure
        }
        if queue.isEmpty { return nil }
        let chunk = queue.removeFirst()
        condition.broadcast()
        return chunk
    }

    /// Stops the producers (their next `put` throws) and waits until they have all finished.
    func cancelAndWait() {
        condition.lock()
        defer { condition.unlock() }
        cancelled = true
        condition.broadcast()
        while running > 0 { condition.wait() }
    }
}

/// Scored homes per bin of each feature's training profile, added up by the scoring threads.
final class ProfileCounts: @unchecked Sendable {
    private let lock = NSLock()
    private let profiles: [(feature: RawFeature, profile: FeatureProfile)]
    private var counts: [[Int]]

    init(_ profiles: [FeatureProfile]) {
        self.profiles = profiles.compactMap { profile in
            RawFeature.allCases.first { $0.name == profile.feature }.map { ($0, profile) }
        }
        counts = self.profiles.map { Array(repeating: 0, count: $0.profile.binCount) }
    }

    func add(_ table: FeatureTable) {
        let chunk = profiles.map { $0.profile.counts(table.values[$0.feature.rawValue]) }
        lock.lock()
        defer { lock.unlock() }
        for (index, part) in chunk.enumerated() { for bin in part.indices { counts[index][bin] += part[bin] } }
    }

    func json() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        let object = Dictionary(uniqueKeysWithValues: zip(profiles.map(\.profile.feature), counts))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(object), as: UTF8.self)
    }
}
