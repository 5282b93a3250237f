// The training protocol (SPEC §2): fit on K stacked snapshots T − h, T − 2h, ..., validate out
// of time at T once. A penalty chosen by `--l2 auto` is chosen on an inner time split that ends
// before T (see `PenaltyTuning`): no choice ever sees the reported validation.
import Crypto
import Foundation

public struct TrainingSettings: Sendable {
    public enum Penalty: Sendable, Equatable { case fixed(Double), auto }
    /// The validation snapshot; nil = the latest date whose horizon has fully passed in the data.
    public var asOfDay: Int?
    public var horizonDays = 365
    public var snapshots = 2
    public var penalty: Penalty = TrainingSettings.defaultPenalty
    public var marketRates = MarketRates.standard
    /// Candidates for `--l2 auto`.
    public var penaltyGrid: [Double] = [0.01, 0.1, 1, 10, 100, 1000]
    /// `--family`: logistic, gbm, or auto (both fitted on the inner split; the one with the lower
    /// inner log loss is kept).
    public var family: FamilyRequest = .auto
    /// The booster's settings (the tree count is chosen by early stopping on the inner split).
    public var boosting = BoostingSettings()
    /// Rows per chunk of the feature pass (a block of `TrainingRows`) and per block of a
    /// design: the sizes of the reads of the streamed fit (tests make them small).
    var featureChunkRows = 65_536
    var designBlockRows = 8192
    /// Threads of the feature pass (SQLite store), each over a share of the property ids.
    var workers = min(2, max(1, ProcessInfo.processInfo.activeProcessorCount))

    /// The default of `train` and of the refresh's retrain. Not `auto`: measured on eight
    /// generated counties (10k to 1M homes), the inner split's choice did not beat λ = 1 out of
    /// time on average (ROC AUC −0.001) and made training 2.7x slower (README, tuning).
    public static let defaultPenalty = Penalty.fixed(1)

    public init() {}
}

/// What `train --family` asks for.
public enum FamilyRequest: String, Sendable, CaseIterable {
    case logistic, gbm, auto
}

/// One candidate penalty, scored on the inner split.
public struct PenaltyTrial: Codable, Equatable, Sendable {
    public var l2: Double
    public var logLoss: Double
    public var rocAUC: Double

    enum CodingKeys: String, CodingKey { case l2, logLoss = "log_loss", rocAUC = "roc_auc" }
}

/// How `--l2 auto` chose the penalty: fitted on the older training snapshots, scored on the
/// newest training snapshot (whose labels end at T, before the out-of-time validation's
/// outcomes begin), then the model was refitted on every training snapshot with the chosen
/// penalty. Kept in the model file apart from the out-of-time metrics.
public struct PenaltyTuning: Codable, Equatable, Sendable {
    public var innerTrainingAsOf: [String]
    public var innerValidationAsOf: String
    public var innerTrainingRows: Int
    public var innerValidationRows: Int
    public var trials: [PenaltyTrial]
    public var chosenL2: Double

    enum CodingKeys: String, CodingKey {
        case innerTrainingAsOf = "inner_training_as_of", innerValidationAsOf = "inner_validation_as_of"
        case innerTrainingRows = "inner_training_rows", innerValidationRows = "inner_validation_rows"
        case trials, chosenL2 = "chosen_l2"
    }
}

public struct TrainingResult: Sendable {
    public var model: LikelyToSellModel
    public var warnings: [String]
    /// Wall time of each step (features, inner split, fit, validation), for `train`'s summary.
    public var phases: [TrainingPhase] = []
}

public struct TrainingPhase: Sendable, Equatable {
    public var name: String
    public var seconds: Double
}

/// Times the steps of a training run.
struct PhaseClock {
    private(set) var phases: [TrainingPhase] = []
    private var last = Date()

    mutating func mark(_ name: String) {
        let now = Date()
        phases.append(TrainingPhase(name: name, seconds: now.timeIntervalSince(last)))
        last = now
    }
}

/// The dates of a training run, from its settings and the data's last event day.
struct TrainingPlan: Sendable {
    var dataEnd: Int
    var validationDay: Int
    var trainingDays: [Int]
    /// The inner split of `--l2 auto` and of the trees' early stopping and the family choice: fits
    /// on these, validated on `innerValidationDay`.
    var innerTrainingDays: [Int]
    var innerValidationDay: Int
    /// Every snapshot whose features are built, in order.
    var asOfDays: [Int]

    init(_ settings: TrainingSettings, dataEnd: Int?) throws {
        guard settings.horizonDays > 0, settings.snapshots > 0 else {
            throw ListwiseError.usage("horizon and snapshots must be positive")
        }
        guard let dataEnd else {
            throw ListwiseError.usage("the database has no events: import events before training")
        }
        let h = settings.horizonDays
        let validationDay = settings.asOfDay ?? dataEnd - h
        guard validationDay + h <= dataEnd else {
            throw ListwiseError.usage("as-of \(DayNumber.iso(validationDay)) + \(h) days is past the last event (\(DayNumber.iso(dataEnd))): its labels are not known yet; use --as-of \(DayNumber.iso(dataEnd - h)) or earlier")
        }
        let trainingDays = (1...settings.snapshots).reversed().map { validationDay - $0 * h }
        // The inner split: the newest training snapshot validates fits on the older ones (with one
        // training snapshot, the snapshot one horizon before it is added for the inner fit only).
        var innerTrainingDays: [Int] = []
        if settings.penalty == .auto || settings.family != .logistic {
            innerTrainingDays = settings.snapshots > 1 ? Array(trainingDays.dropLast()) : [validationDay - 2 * h]
        }
        self.dataEnd = dataEnd
        self.validationDay = validationDay
        self.trainingDays = trainingDays
        self.innerTrainingDays = innerTrainingDays
        innerValidationDay = trainingDays.last!
        asOfDays = Array(Set(innerTrainingDays + trainingDays + [validationDay])).sorted()
    }

    func featureSettings(_ settings: TrainingSettings) -> FeatureSettings {
        FeatureSettings(asOfDays: asOfDays, horizonDays: settings.horizonDays, marketRates: settings.marketRates, dataEndDay: dataEnd)
    }
}

/// The date of a labelled snapshot to evaluate models on (default: the first model's
/// validation snapshot), checked against the data's last event day.
func evaluationDay(_ models: [LikelyToSellModel], asOfDay: Int?, dataEnd: Int?) throws -> Int {
    guard let dataEnd else {
        throw ListwiseError.usage("the database has no events: import events before evaluating")
    }
    let model = models[0]
    let day = asOfDay ?? DayNumber.parse(model.validationAsOf) ?? (dataEnd - model.horizonDays)
    guard day + model.horizonDays <= dataEnd else {
        throw ListwiseError.usage("as-of \(DayNumber.iso(day)) + \(model.horizonDays) days is past the last event (\(DayNumber.iso(dataEnd))): no labels to evaluate against")
    }
    return day
}

/// Fitting and evaluating on built features, whichever store they came from.
enum Training {
    /// Fits on the training snapshots of `data` (see file comment) with the training design
    /// spilled to a temporary file (`SpilledDesign`), so that memory does not grow with it.
    static func fit(_ data: TrainingRows, plan: TrainingPlan, settings: TrainingSettings,
                    progress: ((String) -> Void)?) throws -> TrainingResult {
        let h = settings.horizonDays
        let (validationDay, trainingDays) = (plan.validationDay, plan.trainingDays)
        let (innerTrainingDays, innerValidationDay, asOfDays) = (plan.innerTrainingDays, plan.innerValidationDay, plan.asOfDays)
        var warnings: [String] = []
        var clock = PhaseClock()
        if data.marketRateCarried {
            warnings.append("an as-of date is past the end of the market-rate table: its last rate was carried forward")
        }
        func rows(on days: [Int]) -> [Bool] { data.mask(days.map { asOfDays.firstIndex(of: $0)! }) }
        let trainingRows = rows(on: trainingDays)
        let validationRows = rows(on: [validationDay])
        // Labels one byte a row (0 or 1): as doubles, the training rows' were 157 MB of a 10M-home
        // gbm refit. The logistic fit and the one look at T make their doubles when they need them.
        let trainingLabels = data.labelBytes(trainingRows)
        let validationLabels = data.labelBytes(validationRows)
        guard !trainingLabels.isEmpty, !validationLabels.isEmpty else {
            throw ListwiseError.usage("no homes exist at the training or validation dates; import more history or choose another --as-of")
        }
        guard trainingLabels.contains(0), trainingLabels.contains(1) else {
            throw ListwiseError.usage("the training snapshots have only one class (no listings or no non-listings)")
        }

        var features = RawFeature.allCases
        var notes: [String] = []
        if !data.hasOwnerHistory {
            features.removeAll { $0.needsOwnerHistory }
            notes.append("no owners.csv history: owner age, absentee and corporate features were left out")
            warnings.append(notes.last!)
        }

        var tuning: PenaltyTuning?
        var l2 = 1.0
        if case .fixed(let value) = settings.penalty { l2 = value }
        var innerFitRows = plan.innerTrainingDays.isEmpty ? [] : rows(on: innerTrainingDays)
        var innerValidationRows = plan.innerTrainingDays.isEmpty ? [] : rows(on: [innerValidationDay])
        if settings.family != .gbm, settings.penalty == .auto {
            let chosen = try tunePenalty(data, features: features, grid: settings.penaltyGrid, blockRows: settings.designBlockRows,
                                         fitRows: innerFitRows, validationRows: innerValidationRows, progress: progress)
            tuning = PenaltyTuning(innerTrainingAsOf: innerTrainingDays.map(DayNumber.iso),
                                   innerValidationAsOf: DayNumber.iso(innerValidationDay),
                                   innerTrainingRows: chosen.fitRows, innerValidationRows: chosen.validationRows,
                                   trials: chosen.trials, chosenL2: chosen.l2)
            l2 = chosen.l2
            clock.mark("penalty on the inner split")
        }

        // The trees on the inner split: their count by early stopping, their calibration, and
        // their inner log loss for `auto`. Then the logistic model's inner log loss for `auto`.
        var familyChoice: FamilyChoice?
        var innerTrees: InnerTrees?
        if settings.family != .logistic {
            let inner = try Self.innerTrees(data, features: features, settings: settings.boosting, fitRows: innerFitRows,
                                            validationRows: innerValidationRows, progress: progress)
            clock.mark("trees on the inner split")
            var trials = [inner.trial]
            if settings.family == .auto {
                let logistic = try tuning?.trials.first { $0.l2 == l2 }
                    ?? tunePenalty(data, features: features, grid: [l2], blockRows: settings.designBlockRows,
                                   fitRows: innerFitRows, validationRows: innerValidationRows, progress: progress).trials[0]
                trials.insert(FamilyTrial(family: .logistic, logLoss: logistic.logLoss, rocAUC: logistic.rocAUC, trees: nil), at: 0)
                if tuning == nil { clock.mark("logistic on the inner split") }
            }
            let chosen = trials.min { $0.logLoss < $1.logLoss }!.family
            familyChoice = FamilyChoice(requested: settings.family.rawValue, innerTrainingAsOf: innerTrainingDays.map(DayNumber.iso),
                                        innerValidationAsOf: DayNumber.iso(innerValidationDay),
                                        innerTrainingRows: inner.fitRows, innerValidationRows: inner.validationRows,
                                        trials: trials, chosen: chosen)
            innerTrees = inner
            if chosen == .gbm { tuning = nil }
        }
        // The inner split is done with: its row masks (a byte a row of every snapshot) go.
        innerFitRows = []
        innerValidationRows = []
        let family = familyChoice?.chosen ?? .logistic

        // The logistic model's transforms and drift profiles from the training rows, as many
        // features' values at a time as there are threads, each learned on its own thread. (The
        // trees' profiles are learned in their refit, from the values it reads for its bins.)
        var transforms: [FeatureTransform] = [], profiles: [FeatureProfile] = []
        if family == .logistic {
            let threads = max(1, settings.boosting.threads)
            for start in stride(from: 0, to: features.count, by: threads) {
                let group = Array(features[start..<min(start + threads, features.count)])
                let columns = try group.map { try data.values($0, trainingRows) }
                var learned = [(FeatureTransform, FeatureProfile)?](repeating: nil, count: group.count)
                learned.withUnsafeMutableBufferPointer { learned in
                    parallelParts(group.count) { k in
                        learned[k] = (FeaturePlan.learn(group[k], values: columns[k]), FeatureProfile.learn(group[k].name, values: columns[k]))
                    }
                }
                for case let (transform, profile)? in learned {
                    transforms.append(transform)
                    profiles.append(profile)
                }
            }
        }
        let rowCounts = LikelyToSellModel.RowCounts(
            training: trainingLabels.count, trainingPositives: Self.positives(trainingLabels),
            validation: validationLabels.count, validationPositives: Self.positives(validationLabels))

        if family == .gbm, let innerTrees {
            // Refit on every training snapshot with the inner split's tree count; the one look at T after.
            var boosting = settings.boosting
            boosting.maxTrees = innerTrees.treeCount
            progress?("gbm: fitting \(boosting.maxTrees) trees on \(trainingLabels.count) rows")
            var hasher = SHA256()
            var learnedProfiles = [FeatureProfile?](repeating: nil, count: features.count)
            let fit = try learnedProfiles.withUnsafeMutableBufferPointer { buffer in
                let learnedProfiles = buffer
                return try GradientBoosting.fit(features: features.map(\.name), column: { f in
                    let values = try data.values(features[f], trainingRows)
                    values.withUnsafeBytes { hasher.update(bufferPointer: $0) }
                    return values
                }, labels: trainingLabels, settings: boosting, progress: { trees, _ in
                    progress?("gbm: tree \(trees) of \(boosting.maxTrees)")
                }, alsoLearn: { f, values in
                    learnedProfiles[f] = FeatureProfile.learn(features[f].name, values: values)
                })
            }
            profiles = learnedProfiles.compactMap { $0 }
            precondition(profiles.count == features.count, "a profile for every feature")
            Self.asDoubleBytes(trainingLabels) { hasher.update(bufferPointer: $0) }
            let calibration = PlattScaling.centred(slope: innerTrees.calibrationSlope, scores: fit.trainingScores,
                                                   positives: Double(rowCounts.trainingPositives))
            clock.mark("fit")
            let p = try Self.treeProbabilities(fit.trees, calibration, on: data, mask: validationRows, features: features)
            let metrics = Metrics.evaluate(y: data.labels(validationRows), p: p)
            clock.mark("validation")
            let model = LikelyToSellModel(
                formatVersion: LikelyToSellModel.treesFormatVersion,
                createdAt: AppDatabase.timestamp(Date()),
                horizonDays: h,
                trainingAsOf: trainingDays.map(DayNumber.iso),
                validationAsOf: DayNumber.iso(validationDay),
                l2: boosting.l2, converged: true, iterations: fit.trees.trees.count,
                features: [], intercept: 0, coefficients: [],
                metrics: metrics,
                rows: rowCounts,
                trainingFingerprint: Hex.string(hasher.finalize()),
                notes: notes,
                featureProfiles: profiles,
                tuning: nil,
                family: .gbm, trees: fit.trees, calibration: calibration, familyChoice: familyChoice)
            return TrainingResult(model: model, warnings: warnings, phases: clock.phases)
        }

        progress?("design matrix: \(trainingLabels.count) x \(transforms.reduce(0) { $0 + $1.columns.count })")
        let trainingY = data.labels(trainingRows)
        let trainingDesign = try SpilledDesign(data, mask: trainingRows, labels: trainingY, transforms: transforms, blockRows: settings.designBlockRows)
        progress?("fitting with l2 = \(l2)")
        let fit = try LogisticRegression.fit(trainingDesign, trainingY, settings: LogisticSettings(l2: l2)) { step, deviance in
            progress?("IRLS step \(step): deviance \(String(format: "%.2f", deviance))")
        }
        clock.mark("fit")
        // The one look at T: after every choice is made.
        let metrics = try Self.metrics(of: fit, on: data, mask: validationRows, labels: data.labels(validationRows), transforms: transforms,
                                       blockRows: settings.designBlockRows)
        if !fit.converged {
            warnings.append(fit.separable
                ? "the training data look separable: probabilities reach 0 or 1; use a larger --l2"
                : "the fit did not converge in \(fit.iterations) iterations")
        }
        clock.mark("validation")
        let model = LikelyToSellModel(
            formatVersion: LikelyToSellModel.formatVersion,
            createdAt: AppDatabase.timestamp(Date()),
            horizonDays: h,
            trainingAsOf: trainingDays.map(DayNumber.iso),
            validationAsOf: DayNumber.iso(validationDay),
            l2: l2, converged: fit.converged, iterations: fit.iterations,
            features: transforms, intercept: fit.intercept, coefficients: fit.coefficients,
            metrics: metrics,
            rows: rowCounts,
            trainingFingerprint: trainingDesign.fingerprint,
            notes: notes,
            featureProfiles: profiles,
            tuning: tuning,
            family: familyChoice == nil ? nil : .logistic, familyChoice: familyChoice)
        return TrainingResult(model: model, warnings: warnings, phases: clock.phases)
    }

    /// The trees fitted on the older training snapshots, early-stopped on the newest one, with the
    /// Platt slope learned from that snapshot's scores.
    /// (Only the tree count and the slope go on to the refit: the inner fit's scores, 16 bytes a row
    /// of the inner split, were 157 MB held through a 10M-home refit.)
    struct InnerTrees {
        var treeCount: Int
        var calibrationSlope: Double
        var trial: FamilyTrial
        var fitRows: Int
        var validationRows: Int
    }

    /// Fits the trees on `fitRows`, stops on `validationRows` (the newest training snapshot, never
    /// T), and learns the calibration's slope there (its intercept is set on the final fit's rows).
    private static func innerTrees(_ data: TrainingRows, features: [RawFeature], settings: BoostingSettings, fitRows: [Bool],
                                   validationRows: [Bool], progress: ((String) -> Void)?) throws -> InnerTrees {
        let fitLabels = data.labelBytes(fitRows)
        let validationLabels = data.labels(validationRows)
        guard fitLabels.contains(0), fitLabels.contains(1), Set(validationLabels).count == 2 else {
            throw ListwiseError.usage("gradient-boosted trees need both classes in the older training snapshots and in the newest one (their inner split); import more history or use --family logistic")
        }
        progress?("gbm inner split: \(fitLabels.count) rows, early stopping on \(validationLabels.count)")
        let fit = try GradientBoosting.fit(
            features: features.map(\.name), column: { try data.values(features[$0], fitRows) }, labels: fitLabels,
            validationColumn: { try data.values(features[$0], validationRows) }, validationLabels: validationLabels,
            settings: settings) { trees, loss in
                progress?("gbm inner split: tree \(trees), inner log loss \(String(format: "%.5f", loss ?? .nan))")
            }
        let scores = fit.validationScores!
        // The slope from the newest snapshot; the intercept centred on the rows the trees were
        // fitted on (`PlattScaling`). The inner log loss for `auto`: slopes cross-fitted (even rows
        // score the odd ones and the other way round).
        let slope = try PlattScaling.fit(scores: scores, labels: validationLabels).a
        var p = [Double](repeating: 0, count: scores.count)
        let fitPositives = Double(positives(fitLabels))
        for fold in 0..<2 {
            let train = scores.indices.filter { $0 % 2 != fold }
            let a = try PlattScaling.fit(scores: train.map { scores[$0] }, labels: train.map { validationLabels[$0] }).a
            let platt = PlattScaling.centred(slope: a, scores: fit.trainingScores, positives: fitPositives)
            for i in scores.indices where i % 2 == fold { p[i] = platt.probability(scores[i]) }
        }
        let metrics = Metrics.evaluate(y: validationLabels, p: p)
        return InnerTrees(treeCount: fit.trees.trees.count, calibrationSlope: slope,
                          trial: FamilyTrial(family: .gbm, logLoss: metrics.logLoss, rocAUC: metrics.rocAUC, trees: fit.trees.trees.count),
                          fitRows: fitLabels.count, validationRows: validationLabels.count)
    }

    /// How many of `labels` (0 or 1) are 1.
    static func positives(_ labels: [UInt8]) -> Int { labels.reduce(0) { $0 + Int($1) } }

    /// Hands `body` the bytes of labels of 0 and 1 as the 8-byte doubles they stand for (the
    /// fingerprint hashes them in that form since the first model files), a few thousand at a time.
    static func asDoubleBytes(_ labels: [UInt8], _ body: (UnsafeRawBufferPointer) -> Void) {
        var chunk = [Double]()
        chunk.reserveCapacity(4096)
        for start in stride(from: 0, to: labels.count, by: 4096) {
            chunk.removeAll(keepingCapacity: true)
            for label in labels[start..<min(start + 4096, labels.count)] { chunk.append(Double(label)) }
            chunk.withUnsafeBytes(body)
        }
    }

    /// Calibrated probabilities of the trees for the rows of `data` in `mask`, read block by block.
    private static func treeProbabilities(_ trees: BoostedTrees, _ calibration: PlattScaling, on data: TrainingRows, mask: [Bool],
                                          features: [RawFeature]) throws -> [Double] {
        var p: [Double] = []
        let offsets = features.map(\.rawValue)
        var compact: [Double] = []
        try data.forEachBlock { block, raw in
            // The block's rows in the mask, column by column.
            let rows = (0..<block.rows).filter { mask[block.first + $0] }
            guard !rows.isEmpty else { return }
            compact.removeAll(keepingCapacity: true)
            for offset in offsets { for i in rows { compact.append(raw[offset * block.rows + i]) } }
            let scores = compact.withUnsafeBufferPointer { compact in
                trees.rawScores(columns: offsets.indices.map { compact.baseAddress! + $0 * rows.count }, count: rows.count,
                                threads: trees.settings.threads)
            }
            p += scores.map(calibration.probability)
        }
        return p
    }

    /// Fits every candidate penalty on `fitRows` (transforms learned from those rows alone) and
    /// keeps the one with the lowest log loss on `validationRows`. Never given rows of T.
    private static func tunePenalty(_ data: TrainingRows, features: [RawFeature], grid: [Double], blockRows: Int, fitRows: [Bool],
                                    validationRows: [Bool], progress: ((String) -> Void)?)
        throws -> (l2: Double, trials: [PenaltyTrial], fitRows: Int, validationRows: Int) {
        let fitLabels = data.labels(fitRows)
        let validationLabels = data.labels(validationRows)
        guard Set(fitLabels).count == 2, Set(validationLabels).count == 2 else {
            throw ListwiseError.usage("--l2 auto needs both classes in the older training snapshots and in the newest one; import more history or give --l2 a number")
        }
        let transforms = try features.map { feature in
            FeaturePlan.learn(feature, values: try data.values(feature, fitRows))
        }
        let fitDesign = try SpilledDesign(data, mask: fitRows, labels: fitLabels, transforms: transforms, blockRows: blockRows)
        var trials: [PenaltyTrial] = []
        for l2 in grid {
            progress?("inner split: fitting with l2 = \(l2)")
            let fit = try LogisticRegression.fit(fitDesign, fitLabels, settings: LogisticSettings(l2: l2))
            let metrics = try Self.metrics(of: fit, on: data, mask: validationRows, labels: validationLabels, transforms: transforms,
                                           blockRows: blockRows)
            trials.append(PenaltyTrial(l2: l2, logLoss: metrics.logLoss, rocAUC: metrics.rocAUC))
        }
        let best = trials.min { $0.logLoss < $1.logLoss }!
        return (best.l2, trials, fitLabels.count, validationLabels.count)
    }

    /// The metrics of `fit` on the rows of `data` in `mask`, their design built block by block
    /// and used once (not spilled: validation reads it once).
    private static func metrics(of fit: LogisticFit, on data: TrainingRows, mask: [Bool], labels: [Double],
                                transforms: [FeatureTransform], blockRows: Int) throws -> ModelMetrics {
        var p: [Double] = []
        p.reserveCapacity(labels.count)
        var eta = [Double](repeating: 0, count: max(1, blockRows))
        try fit.coefficients.withUnsafeBufferPointer { beta in
            _ = try SpilledDesign.forEachBlock(of: data, mask: mask, transforms: transforms, blockRows: blockRows) { block in
                BLAS.multiply(block, beta.baseAddress!, into: &eta)
                for i in 0..<block.rows { p.append(LogisticRegression.sigmoid(eta[i] + fit.intercept)) }
            }
        }
        return Metrics.evaluate(y: labels, p: p)
    }

    /// The metrics of `models` on one labelled snapshot's features.
    static func evaluate(_ models: [LikelyToSellModel], on table: FeatureTable, day: Int) throws -> [ModelMetrics] {
        guard table.count > 0 else { throw ListwiseError.usage("no homes to evaluate at \(DayNumber.iso(day))") }
        return try models.map { model in
            if !table.hasOwnerHistory, let missing = try model.rawFeatures().first(where: \.needsOwnerHistory) {
                throw ListwiseError.usage("the model needs '\(missing.name)', which comes from owners.csv, but the database has no owners")
            }
            return Metrics.evaluate(y: table.label, p: try model.probabilities(table))
        }
    }
}
