// Score runs (SPEC §3): every home in scope scored with a model as of a date, ranked within the
// scope, tiered, with reasons; one transaction per run.
import Foundation

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
    /// Called with the number of homes scored so far, after each chunk and when ranking starts.
    public var progress: (@Sendable (_ homes: Int, _ ranking: Bool) -> Void)?
    /// Called with the number of homes read so far while a store reads every home before it
    /// scores any (SQLite: the zip rates need every home), from the reading threads.
    public var readProgress: (@Sendable (_ homes: Int) -> Void)?

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

extension HomeScore {
    /// Probabilities and reasons of one chunk of feature rows (not yet ranked).
    /// `explainer`: a tree model's tables, made once per run (`TreeExplainer(model.trees)`).
    static func scores(of table: FeatureTable, model: LikelyToSellModel, features: [RawFeature],
                       explainer: TreeExplainer? = nil) throws -> [HomeScore] {
        if model.modelFamily == .gbm, let trees = model.trees, let calibration = model.calibration {
            return treeScores(of: table, explainer: explainer ?? TreeExplainer(trees), calibration: calibration, features: features)
        }
        var ranges: [Range<Int>] = []
        var offset = 0
        for transform in model.features {
            ranges.append(offset..<(offset + transform.columns.count))
            offset += transform.columns.count
        }
        let design = try DesignMatrix.build(table, transforms: model.features, rows: Array(0..<table.count))
        let eta = try BLAS.multiply(design, model.coefficients)
        var contributions = [Double](repeating: 0, count: ranges.count)
        var memo = Reasons.Memo()
        return (0..<table.count).map { row in
            // Contribution of a feature: Σ coefficient × standardised value over its columns (0 at the training mean).
            for (feature, range) in ranges.enumerated() {
                var sum = 0.0
                for column in range { sum += model.coefficients[column] * design[row, column] }
                contributions[feature] = sum
            }
            let reasons = contributions.withUnsafeBufferPointer { contributions in
                Reasons.top(contributions) { memo.phrase(features[$0], table.values[features[$0].rawValue][row]) }
            }
            return HomeScore(propertyID: table.propertyIDs[row], probability: LogisticRegression.sigmoid(eta[row] + model.intercept),
                             onMarket: table.onMarket[row], reasons: reasons)
        }
    }
}

extension HomeScore {
    /// Probabilities and reasons of a tree model: the probabilities by the trees' walk (as
    /// `LikelyToSellModel.probabilities`), the reasons from `treeReasons`.
    static func treeScores(of table: FeatureTable, explainer: TreeExplainer, calibration: PlattScaling,
                           features: [RawFeature]) -> [HomeScore] {
        let raw = treeRawScores(of: table, trees: explainer.ensemble, features: features)
        let reasons = treeReasons(of: table, explainer: explainer, features: features)
        return (0..<table.count).map { row in
            HomeScore(propertyID: table.propertyIDs[row], probability: calibration.probability(raw[row]),
                      onMarket: table.onMarket[row], reasons: reasons[row])
        }
    }

    /// The raw scores (log-odds) of a tree model for each row of `table`.
    static func treeRawScores(of table: FeatureTable, trees: BoostedTrees, features: [RawFeature]) -> [Double] {
        let columns = features.map { table.values[$0.rawValue] }
        let pointers = columns.map { column in column.withUnsafeBufferPointer { $0.baseAddress! } }
        return withExtendedLifetime(columns) { trees.rawScores(columns: pointers, count: table.count) }
    }

    /// The reasons of a tree model for each row of `table`: each feature's contribution is its
    /// TreeSHAP value summed over the trees (raw-score units, 0 = no effect against the average
    /// home), the largest phrased.
    static func treeReasons(of table: FeatureTable, explainer: TreeExplainer, features: [RawFeature]) -> [[String]] {
        let width = features.count, n = table.count
        let columns = features.map { table.values[$0.rawValue] }
        let scratch = TreeExplainer.Scratch(explainer)
        var phi = [Double](repeating: 0, count: n * width)
        // The columns stay alive (`columns`) while their pointers are used.
        let pointers = columns.map { column in column.withUnsafeBufferPointer { $0.baseAddress! } }
        phi.withUnsafeMutableBufferPointer { phi in
            withExtendedLifetime(columns) {
                explainer.add(rows: 0..<n, columns: pointers, into: phi.baseAddress!, scratch: scratch)
            }
        }
        var memo = Reasons.Memo()
        return phi.withUnsafeBufferPointer { phi in
            (0..<n).map { row in
                let contributions = UnsafeBufferPointer(rebasing: phi[(row * width)..<((row + 1) * width)])
                return Reasons.top(contributions) { memo.phrase(features[$0], columns[$0][row]) }
            }
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

    /// Homes per tier, as the score run's SQL assigns them (rank ≤ high·n: High, ≤ (high + medium)·n:
    /// Medium, else Low); tiers without homes are left out. (Counted here: a GROUP BY over the
    /// written scores took 0.6 s at 1M homes.)
    func tierCounts(high: Double, medium: Double) -> [String: Int] {
        var counts: [String: Int] = [:]
        let n = Double(descending.count)
        var rank = 0
        for (index, probability) in descending.enumerated() {
            if index == 0 || probability != descending[index - 1] { rank = index + 1 }
            counts[Self.tier(rank: rank, of: n, high: high, medium: medium), default: 0] += 1
        }
        return counts
    }

    /// The tier of `rank` among `n` ranked homes (the rule the score run's SQL applies).
    static func tier(rank: Int, of n: Double, high: Double, medium: Double) -> String {
        Double(rank) <= high * n ? "High" : Double(rank) <= (high + medium) * n ? "Medium" : "Low"
    }

    /// How many homes share `probability`.
    func tiedCount(of probability: Double) -> Int {
        boundary { $0 >= probability } - boundary { $0 > probability }
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

/// The warnings of a score run, the same on every store.
enum ScoreWarnings {
    /// How many days past the data an as-of date may be before `score` warns.
    static let staleAsOfDays = 90

    /// Before the run: the market-rate table ends before the as-of date; the as-of date is more
    /// than `staleAsOfDays` past the newest event.
    static func beforeRun(_ settings: ScoreSettings, newestEventDay newest: Int?) -> [String] {
        var warnings: [String] = []
        let civil = DayNumber.civil(settings.asOfDay)
        if settings.marketRates.ratePercent(year: civil.year, month: civil.month).carried {
            warnings.append("the as-of date is past the end of the market-rate table: its last rate was carried forward")
        }
        if let newest, settings.asOfDay - newest > staleAsOfDays {
            warnings.append("the as-of date \(DayNumber.iso(settings.asOfDay)) is \(settings.asOfDay - newest) days past the newest event: scores describe data that ends on \(DayNumber.iso(newest)); import newer events or give --as-of")
        }
        return warnings
    }

    static func noHomes(_ settings: ScoreSettings) -> String {
        "no homes to score\(settings.territory.map { " in territory \($0)" } ?? "")"
    }
}
