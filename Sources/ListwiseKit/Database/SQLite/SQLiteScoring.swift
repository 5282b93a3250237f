// Score runs on the SQLite store (SPEC §3): the features streamed over the cores, scores staged,
// ranked by SQL with Swift rank functions; the runs and their freshness read back.
import Foundation
import GRDB

extension AppDatabase {
    /// Scores the homes in scope and stores the run, streaming: features come in chunks of
    /// `settings.chunkRows` homes, scored with a logistic model's one design matrix and one
    /// `dgemv` and staged (`scoreStaged`), or with a tree model in two looks (`scoreTrees`); then
    /// each reader's part is written with ranks, percentiles and tiers, and the rank order.
    /// Memory grows by the probabilities kept for ranking and the ids for the rank order: about
    /// 20 bytes a home and the ids' bytes (24 more while the ranks are built). The run is one
    /// transaction: all of it or nothing.
    public func score(model: LikelyToSellModel, settings: ScoreSettings) throws -> ScoreRunSummary {
        let started = Date()
        let scope = try settings.territory.map { try territory(named: $0).definition }
        let features = try model.rawFeatures()
        let explainer = model.trees.map { TreeExplainer($0) }
        if features.contains(where: \.needsOwnerHistory), try !read(Self.hasOwnerHistory(in:)) {
            throw ListwiseError.usage("the model needs owners.csv features, but the database has no owners")
        }
        var summary = ScoreRunSummary(runID: 0, rows: 0, onMarket: 0, expectedListings: 0, tierCounts: [:], warnings: [])
        summary.warnings += ScoreWarnings.beforeRun(settings, newestEventDay: try newestEventDay())
        // Foreign keys are off for the run: every score's property comes from the properties table
        // itself, and the check (a properties lookup a row) was 1.5 s of a 1M-home run.
        try writeWithoutTransaction { db in
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
                let featureSettings = FeatureSettings(asOfDays: [settings.asOfDay], horizonDays: model.horizonDays,
                                                      marketRates: settings.marketRates, includeOnMarket: true, scope: scope)
                let profileCounts = model.featureProfiles.map(ProfileCounts.init)
                if model.modelFamily == .gbm, let explainer, let calibration = model.calibration {
                    summary.tierCounts = try scoreTrees(db, runID: runID, explainer: explainer, calibration: calibration, features: features,
                                                        featureSettings: featureSettings, profileCounts: profileCounts,
                                                        settings: settings, summary: &summary)
                } else {
                    summary.tierCounts = try scoreStaged(db, runID: runID, model: model, features: features,
                                                         featureSettings: featureSettings, profileCounts: profileCounts,
                                                         settings: settings, summary: &summary)
                }
                try db.execute(sql: "UPDATE score_runs SET finished_at = ?, rows = ?, on_market = ?, feature_counts = ? WHERE id = ?",
                               arguments: [Self.timestamp(Date()), summary.rows, summary.onMarket, try profileCounts?.json(), runID])
                try Self.recordEvent(.scoreRun(summary, settings: settings, now: Date()), db)
                return .commit
            }
        }
        if summary.rows == 0 { summary.warnings.append(ScoreWarnings.noHomes(settings)) }
        return summary
    }

    /// A run's scores with the logistic model: every home read (zips counted as the readers
    /// go), then each range's chunks scored with their reasons on the reader threads and staged
    /// to one file per range (part), probabilities kept (8 bytes a home) for ranking; then the
    /// staged homes written with their ranks, and the rank order. Returns the tier counts.
    private func scoreStaged(_ db: Database, runID: Int64, model: LikelyToSellModel, features: [RawFeature],
                             featureSettings: FeatureSettings, profileCounts: ProfileCounts?, settings: ScoreSettings,
                             summary: inout ScoreRunSummary) throws -> [String: Int] {
        // Scored on the reader threads; the caller holds the write lock (BEGIN IMMEDIATE)
        // to the end, so the run describes the data the readers saw.
        let readers = try startFeatureReaders(db, settings: featureSettings, workers: settings.workers,
                                              chunkRows: settings.chunkRows, countZipsInPass: true,
                                              read: settings.readProgress) { chunk in
            profileCounts?.add(chunk)
            return try HomeScore.scores(of: chunk, model: model, features: features)
        }
        // A part's file is made when its first chunk comes (inside `forEach`, which stops
        // the readers on any error).
        var stages = [StagedScores?](repeating: nil, count: readers.parts)
        var probabilities = [[Double]](repeating: [], count: readers.parts)
        try readers.forEach { part, scored in
            if stages[part] == nil { stages[part] = try StagedScores() }
            let stage = stages[part]!
            for score in scored {
                try stage.append(score)
                summary.rows += 1
                if score.onMarket { summary.onMarket += 1 } else { summary.expectedListings += score.probability }
                probabilities[part].append(score.onMarket ? .nan : score.probability)
            }
            settings.progress?(summary.rows, false)
        }
        settings.progress?(summary.rows, true)
        // Pass 2: each staged home with its rank, part after part (the parts are consecutive
        // ranges of ids, so the rows go into the table in key order: appends). (An UPDATE of
        // ranks in place took 21 s for 1M homes, it rewrites every row.)
        let ranking = PositionRanking(probabilities)
        probabilities = []
        let ids = try Self.writeScores(db, runID: runID, stages: stages, ranking: ranking, settings: settings)
        stages = []
        try Self.writeScoreRanks(db, runID: runID, ranking: ranking, ids: ids)
        return ranking.tierCounts(high: settings.highShare, medium: settings.mediumShare)
    }

    /// A run's scores with a tree model, in two looks at the homes: every home read (zips counted
    /// as the readers go), then the trees' walks on the reader threads give the probabilities,
    /// kept with the ids (13 bytes a home and the ids' bytes) for the ranks; then the
    /// reasons (TreeSHAP, most of a tree model's scoring) come from a second look at the spilled
    /// chunks, on one thread, while this one writes the rank order and the scores in key order.
    /// (Explained with the walks and staged, the reasons kept both cores while the writes, a
    /// third of a 1M-home run, left one idle.) Returns the tier counts.
    private func scoreTrees(_ db: Database, runID: Int64, explainer: TreeExplainer, calibration: PlattScaling, features: [RawFeature],
                            featureSettings: FeatureSettings, profileCounts: ProfileCounts?, settings: ScoreSettings,
                            summary: inout ScoreRunSummary) throws -> [String: Int] {
        let readers = try startFeatureReaders(db, settings: featureSettings, workers: settings.workers,
                                              chunkRows: settings.chunkRows, countZipsInPass: true, keepSpills: true,
                                              read: settings.readProgress) { chunk in
            profileCounts?.add(chunk)
            let raw = HomeScore.treeRawScores(of: chunk, trees: explainer.ensemble, features: features)
            return FirstLook(ids: chunk.propertyIDs, probabilities: raw.map(calibration.probability), onMarket: chunk.onMarket)
        }
        // The second look starts with the first (it waits for the zip rates), so that it is well
        // ahead when the scores are written.
        let reasons = readers.lookAgain { chunk in
            PackedReasons(HomeScore.treeReasons(of: chunk, explainer: explainer, features: features))
        }
        defer { reasons.stop() }
        // Sized once from the spills when the first look's first chunk comes (every home is read
        // by then): grown chunk by chunk and joined, they held up to twice their bytes.
        var ids = ScoredIDs()
        var probabilities: [[Double]] = [], onMarket: [[Bool]] = [], filled: [Int] = []
        try readers.forEach { part, look in
            if filled.isEmpty {
                let sizes = readers.spilledSizes()
                ids = ScoredIDs(partRows: sizes.map(\.rows), partBytes: sizes.map(\.idBytes))
                probabilities = sizes.map { [Double](repeating: 0, count: $0.rows) }
                onMarket = sizes.map { [Bool](repeating: false, count: $0.rows) }
                filled = sizes.map { _ in 0 }
            }
            for (row, var id) in look.ids.enumerated() {
                id.withUTF8 { ids.append(UnsafeRawBufferPointer($0), toPart: part) }
                let p = look.probabilities[row]
                probabilities[part][filled[part] + row] = p
                onMarket[part][filled[part] + row] = look.onMarket[row]
                if look.onMarket[row] { summary.onMarket += 1 } else { summary.expectedListings += p }
            }
            filled[part] += look.ids.count
            summary.rows += look.ids.count
            settings.progress?(summary.rows, false)
        }
        guard filled == probabilities.map(\.count) else {
            throw ListwiseError.runtime("the first look gave \(filled) homes a range, the spills hold \(probabilities.map(\.count))")
        }
        settings.progress?(summary.rows, true)
        let ranking = PositionRanking(probabilities, onMarket: onMarket)
        try Self.writeScoreRanks(db, runID: runID, ranking: ranking, ids: ids)
        try Self.writeScores(db, runID: runID, ids: ids, probabilities: probabilities, onMarket: onMarket, ranking: ranking,
                             reasons: reasons, settings: settings)
        return ranking.tierCounts(high: settings.highShare, medium: settings.mediumShare)
    }

    /// The scores columns, in the order the writers bind them.
    static let scoreColumns = ["run_id", "property_id", "probability", "rank", "percentile", "tier", "on_market", "reason1", "reason2", "reason3"]

    /// Binds a home's rank, percentile and tier (columns 3-5; nulls for a home not ranked).
    @inline(__always)
    static func bindRank(_ insert: BatchedInsert, part: Int, row: Int, ranking: PositionRanking, settings: ScoreSettings) {
        let rank = ranking.rank(part: part, row: row), n = ranking.count
        guard rank > 0 else {
            insert.bindNull(3)
            insert.bindNull(4)
            insert.bindNull(5)
            return
        }
        let tied = ranking.tied(part: part, row: row)
        insert.bind(3, Int64(rank))
        // The percentile and tier rules of `Ranking` (SPEC §3).
        insert.bind(4, n > 1 ? 100.0 * (Double(n - rank - tied + 1) + 0.5 * Double(tied - 1)) / Double(n - 1) : 100.0)
        let tier: StaticString = switch Ranking.tier(rank: rank, of: Double(n), high: settings.highShare, medium: settings.mediumShare) {
        case "High": "High"
        case "Medium": "Medium"
        default: "Low"
        }
        insert.bind(5, unsafeBytes: tier.utf8Start, count: tier.utf8CodeUnitCount)
    }

    /// The tree path's pass 2: every home in key order with its probability, rank and the
    /// reasons of the second look (which come in the same order), bound without copies.
    static func writeScores(_ db: Database, runID: Int64, ids: ScoredIDs, probabilities: [[Double]], onMarket: [[Bool]],
                            ranking: PositionRanking, reasons: FeatureReaders<PackedReasons>, settings: ScoreSettings) throws {
        let insert = try BatchedInsert(db, table: "scores", columns: scoreColumns)
        var next = [Int](repeating: 0, count: ids.parts)
        try ids.withIDs { id in
            try reasons.forEach { part, chunk in
                try chunk.withRows { reasonsOf in
                    for index in 0..<chunk.count {
                        let row = next[part]
                        next[part] += 1
                        let (bytes, count) = id(part, row)
                        insert.bind(0, runID)
                        insert.bind(1, unsafeBytes: bytes, count: count)
                        insert.bind(2, probabilities[part][row])
                        bindRank(insert, part: part, row: row, ranking: ranking, settings: settings)
                        insert.bind(6, Int64(onMarket[part][row] ? 1 : 0))
                        for slot in 0..<3 {
                            if let (reason, length) = reasonsOf(index, slot) {
                                insert.bind(7 + slot, unsafeBytes: reason, count: length)
                            } else {
                                insert.bindNull(7 + slot)
                            }
                        }
                        try insert.endRow()
                    }
                    try insert.flush()   // before the chunk's bytes go
                }
            }
        }
        for part in 0..<ids.parts where next[part] != ids.count(part: part) {
            throw ListwiseError.runtime("the second look gave \(next[part]) homes of part \(part), the first \(ids.count(part: part))")
        }
    }

    /// Pass 2 of a run: the staged scores of each part, in order, with their ranks, percentiles
    /// and tiers, bound from the staged bytes (rows in key order: appends). Returns the ids, for
    /// `writeScoreRanks`.
    static func writeScores(_ db: Database, runID: Int64, stages: [StagedScores?], ranking: PositionRanking,
                            settings: ScoreSettings) throws -> ScoredIDs {
        let insert = try BatchedInsert(db, table: "scores", columns: scoreColumns)
        var ids = ScoredIDs()
        for (part, stage) in stages.enumerated() {
            ids.startPart()
            try stage?.forEach(beforeBytesMove: insert.flush) { row, score in
                ids.append(score.id)
                insert.bind(0, runID)
                insert.bind(1, unsafeBytes: score.id.baseAddress!, count: score.id.count)
                insert.bind(2, score.probability)
                bindRank(insert, part: part, row: row, ranking: ranking, settings: settings)
                insert.bind(6, Int64(score.onMarket ? 1 : 0))
                for (slot, reason) in [score.reasons.0, score.reasons.1, score.reasons.2].enumerated() {
                    if let reason { insert.bind(7 + slot, unsafeBytes: reason.baseAddress!, count: reason.count) } else { insert.bindNull(7 + slot) }
                }
                try insert.endRow()
            }
        }
        return ids
    }

    /// The run's homes in rank order, for the Data API's pages (`score_ranks`; on-market homes
    /// as rank 0, first), written from the ranking's order and the ids kept in memory: appends.
    /// (Filled by SQL from the written scores, one sort of (rank, id) pairs, it took 1.2-1.8 s
    /// of a 1M-home run.)
    static func writeScoreRanks(_ db: Database, runID: Int64, ranking: PositionRanking, ids: ScoredIDs) throws {
        let insert = try BatchedInsert(db, table: "score_ranks", columns: ["run_id", "rank", "property_id"], batchRows: 256)
        try ids.withIDs { id in
            func write(part: Int, row: Int, rank: Int) throws {
                let (bytes, count) = id(part, row)
                insert.bind(0, runID)
                insert.bind(1, Int64(rank))
                insert.bind(2, unsafeBytes: bytes, count: count)
                try insert.endRow()
            }
            // Rank 0 (on the market) in id order: the parts are consecutive ranges, in order.
            for part in 0..<ids.parts {
                for row in 0..<ids.count(part: part) where ranking.rank(part: part, row: row) == 0 { try write(part: part, row: row, rank: 0) }
            }
            try ranking.forEachInRankOrder { part, row, rank in try write(part: part, row: row, rank: rank) }
            try insert.flush()
        }
    }

    /// The run's homes in rank order (see `writeScoreRanks`) from its written scores: one sort
    /// of (rank, id) pairs, then appends (for a copied store).
    static func fillScoreRanks(_ db: Database, runID: Int64) throws {
        try db.execute(sql: """
            INSERT INTO score_ranks (run_id, rank, property_id)
            SELECT run_id, coalesce(rank, 0), property_id FROM scores WHERE run_id = ? ORDER BY 2, 3
            """, arguments: [runID])
    }

    /// `parts` ranges of property ids with about as many homes each.
    static func propertyRanges(_ db: Database, parts: Int) throws -> [PropertyRange] {
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM properties") ?? 0
        return try PropertyRange.split(db, parts: parts, count: count, ids: "SELECT property_id FROM properties")
    }
}

extension AppDatabase {
    /// The run `id`, or the latest run (of `territory` when given). Usage error when there is none.
    public func scoreRun(id: Int64?, territory: String?) throws -> ScoreRunRecord {
        try read { db in
            if let id {
                // A cached statement: the Data API reads a cursor's run on every page.
                guard let run = try ScoreRunRecord.fetchOne(try db.cachedStatement(sql: "SELECT * FROM score_runs WHERE id = ?"), arguments: [id])
                else { throw ListwiseError.usage("no score run \(id)") }
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

extension AppDatabase {
    /// The newest event date the imports recorded (a scan of the events when none did).
    public func newestEventDay() throws -> Int? { try lastEventDay() }

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

/// The competition rank and tie count of every ranked home, by its position (reader part, row
/// in the part), found by one sort: the same ranks as `Ranking`, without a binary search a row
/// (those searches were 5 % of a 1M-home run); and the ranked homes in rank order (ties in
/// position order, which is id order). 32 bytes a home while the ranks are built (the sort's
/// pairs and its merge buffer, then the pairs and the ranks), 16 after.
struct PositionRanking: Sendable {
    private let ranks: [[Int32]]   // 0 = not ranked
    private let ties: [[Int32]]
    /// Ranked homes by rank, then position: row | part << 40.
    private let order: RankOrder
    let count: Int

    /// The positions in rank order, in memory of their own: written over the sorted pairs' first
    /// half, which then gives the rest back (a copy beside the pairs was 80 MB more at 10M homes).
    private final class RankOrder: @unchecked Sendable {
        let positions: UnsafeMutablePointer<Int>
        let count: Int
        init(_ positions: UnsafeMutablePointer<Int>, count: Int) { self.positions = positions; self.count = count }
        deinit { free(positions) }
    }

    /// `probabilities[part][row]`, NaN for a home that is not ranked (on the market), or
    /// true in `onMarket[part][row]`.
    init(_ probabilities: [[Double]], onMarket: [[Bool]]? = nil) {
        typealias Pair = (probability: Double, position: Int)
        var n = 0
        for (part, rows) in probabilities.enumerated() {
            for (row, p) in rows.enumerated() where !p.isNaN && onMarket?[part][row] != true {
                n += 1
            }
        }
        let memory = malloc(max(1, n) * MemoryLayout<Pair>.stride)!
        var pairs = UnsafeMutableBufferPointer(start: memory.bindMemory(to: Pair.self, capacity: n), count: n)
        var filled = 0
        for (part, rows) in probabilities.enumerated() {
            for (row, p) in rows.enumerated() where !p.isNaN && onMarket?[part][row] != true {
                pairs[filled] = (p, part << 40 | row)
                filled += 1
            }
        }
        func before(_ a: Pair, _ b: Pair) -> Bool {
            a.probability > b.probability || (a.probability == b.probability && a.position < b.position)
        }
        pairs.sort(by: before)
        var ranks = probabilities.map { [Int32](repeating: 0, count: $0.count) }
        var ties = ranks
        var start = 0
        while start < n {
            var end = start + 1
            while end < n, pairs[end].probability == pairs[start].probability { end += 1 }
            for k in start..<end {
                let part = pairs[k].position >> 40, row = pairs[k].position & (1 << 40 - 1)
                ranks[part][row] = Int32(start + 1)
                ties[part][row] = Int32(end - start)
            }
            start = end
        }
        // Position k goes to bytes 8k..<8k + 8, at or before pair k's position field (16k + 8):
        // each is read before it is written over (raw loads and stores: the memory is still
        // bound to the pairs).
        let positionOffset = MemoryLayout<Pair>.offset(of: \Pair.position)!
        for k in 0..<n {
            let position = memory.load(fromByteOffset: k * MemoryLayout<Pair>.stride + positionOffset, as: Int.self)
            memory.storeBytes(of: position, toByteOffset: k * MemoryLayout<Int>.stride, as: Int.self)
        }
        let kept = realloc(memory, max(1, n) * MemoryLayout<Int>.stride)!.bindMemory(to: Int.self, capacity: max(1, n))
        self.ranks = ranks
        self.ties = ties
        order = RankOrder(kept, count: n)
        count = n
    }

    func rank(part: Int, row: Int) -> Int { Int(ranks[part][row]) }
    func tied(part: Int, row: Int) -> Int { Int(ties[part][row]) }

    /// The ranked homes in rank order (equal ranks by position).
    func forEachInRankOrder(_ body: (_ part: Int, _ row: Int, _ rank: Int) throws -> Void) rethrows {
        for position in UnsafeBufferPointer(start: order.positions, count: order.count) {
            let part = position >> 40, row = position & (1 << 40 - 1)
            try body(part, row, Int(ranks[part][row]))
        }
    }

    /// Homes per tier, as the score run's SQL assigns them (see `Ranking.tierCounts`).
    func tierCounts(high: Double, medium: Double) -> [String: Int] {
        var counts: [String: Int] = [:]
        let n = Double(count)
        for part in ranks {
            for rank in part where rank > 0 {
                counts[Ranking.tier(rank: Int(rank), of: n, high: high, medium: medium), default: 0] += 1
            }
        }
        return counts
    }
}

/// The property ids of a run's homes by reader part and row, packed: 4 bytes a home and the
/// ids' bytes.
struct ScoredIDs {
    private var bytes: [UInt8] = []
    private var ends: [UInt32] = []
    private var partStarts: [Int] = []

    var parts: Int { partStarts.count }
    func count(part: Int) -> Int { (part + 1 < partStarts.count ? partStarts[part + 1] : ends.count) - partStarts[part] }

    /// The ids appended next are rows 0, 1, ... of the next part.
    mutating func startPart() { partStarts.append(ends.count) }

    /// Where `append(_:toPart:)` puts each part's next id (row, byte), when sized up front.
    private var cursors: [(row: Int, byte: Int)] = []

    init() {}

    /// Room for parts of `partRows` ids of `partBytes` bytes, filled by `append(_:toPart:)` in
    /// any order of parts (each part's ids in order), read once every part is full.
    init(partRows: [Int], partBytes: [Int]) {
        let totalBytes = partBytes.reduce(0, +)
        precondition(totalBytes <= UInt32.max, "more than 4 GB of property ids in one score run")
        bytes = [UInt8](repeating: 0, count: totalBytes)
        ends = [UInt32](repeating: 0, count: partRows.reduce(0, +))
        var row = 0, byte = 0
        for (rows, count) in zip(partRows, partBytes) {
            partStarts.append(row)
            cursors.append((row, byte))
            row += rows
            byte += count
        }
    }

    /// The next id of `part` (sized up front).
    mutating func append(_ id: UnsafeRawBufferPointer, toPart part: Int) {
        let (row, byte) = cursors[part]
        precondition(row < (part + 1 < partStarts.count ? partStarts[part + 1] : ends.count) && byte + id.count <= bytes.count,
                     "more ids than the part was sized for")
        bytes.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[byte..<(byte + id.count)]).copyMemory(from: id) }
        ends[row] = UInt32(byte + id.count)
        cursors[part] = (row + 1, byte + id.count)
    }

    mutating func append(_ id: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: id)
        precondition(bytes.count <= UInt32.max, "more than 4 GB of property ids in one score run")
        ends.append(UInt32(bytes.count))
    }

    /// Runs `body` with a function giving the bytes of (part, row)'s id, valid during `body`.
    func withIDs<T>(_ body: ((_ part: Int, _ row: Int) -> (UnsafeRawPointer, Int)) throws -> T) rethrows -> T {
        try bytes.withUnsafeBytes { raw in
            try ends.withUnsafeBufferPointer { ends in
                let base = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
                return try body { part, row in
                    let index = partStarts[part] + row
                    let start = index == 0 ? 0 : Int(ends[index - 1])
                    return (base + start, Int(ends[index]) - start)
                }
            }
        }
    }
}

/// What the first look of a tree model's run keeps of a chunk (`AppDatabase.scoreTrees`).
struct FirstLook: Sendable {
    var ids: [String]
    var probabilities: [Double]
    var onMarket: [Bool]
}

/// The reasons of a chunk's homes, packed so that they are bound without copies: row r's
/// reason k is `bytes[ends[3r + k − 1] ..< ends[3r + k]]`, empty when it has none.
struct PackedReasons: Sendable {
    private var bytes: [UInt8] = []
    private var ends: [UInt32] = []

    init(_ reasons: [[String]]) {
        ends.reserveCapacity(3 * reasons.count)
        for row in reasons {
            for slot in 0..<3 {
                if slot < row.count {
                    var reason = row[slot]
                    reason.withUTF8 { bytes.append(contentsOf: $0) }
                }
                ends.append(UInt32(bytes.count))
            }
        }
    }

    var count: Int { ends.count / 3 }

    /// Runs `body` with a function giving row r's reason k (bytes, length), nil when it has none;
    /// valid during `body`.
    func withRows<T>(_ body: ((_ row: Int, _ slot: Int) -> (UnsafeRawPointer, Int)?) throws -> T) rethrows -> T {
        try bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
            return try body { row, slot in
                let index = 3 * row + slot
                let start = index == 0 ? 0 : Int(ends[index - 1]), end = Int(ends[index])
                return end > start ? (base + start, end - start) : nil
            }
        }
    }
}
