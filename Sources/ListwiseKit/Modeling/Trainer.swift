// The training protocol (SPEC §2): fit on K stacked snapshots T − h, T − 2h, ..., validate out
// of time at T, optionally choosing the L2 penalty by that validation.
import Foundation

public struct TrainingSettings: Sendable {
    public enum Penalty: Sendable, Equatable { case fixed(Double), auto }
    /// The validation snapshot; nil = the latest date whose horizon has fully passed in the data.
    public var asOfDay: Int?
    public var horizonDays = 365
    public var snapshots = 2
    public var penalty: Penalty = .fixed(1)
    public var marketRates = MarketRates.standard
    /// Candidates for `--l2 auto`.
    public var penaltyGrid: [Double] = [0.01, 0.1, 1, 10, 100, 1000]

    public init() {}
}

public struct PenaltyTrial: Codable, Equatable, Sendable {
    public var l2: Double
    public var validationLogLoss: Double
    public var validationAUC: Double
}

public struct TrainingResult: Sendable {
    public var model: LikelyToSellModel
    public var trials: [PenaltyTrial]
    public var warnings: [String]
}

extension AppDatabase {
    /// Builds the snapshots' features, fits, validates out of time, and returns the model.
    public func trainModel(_ settings: TrainingSettings, progress: ((String) -> Void)? = nil) throws -> TrainingResult {
        guard settings.horizonDays > 0, settings.snapshots > 0 else {
            throw ListwiseError.usage("horizon and snapshots must be positive")
        }
        guard let dataEnd = try lastEventDay() else {
            throw ListwiseError.usage("the database has no events: import events before training")
        }
        let validationDay = settings.asOfDay ?? dataEnd - settings.horizonDays
        guard validationDay + settings.horizonDays <= dataEnd else {
            throw ListwiseError.usage("as-of \(DayNumber.iso(validationDay)) + \(settings.horizonDays) days is past the last event (\(DayNumber.iso(dataEnd))): its labels are not known yet; use --as-of \(DayNumber.iso(dataEnd - settings.horizonDays)) or earlier")
        }
        let trainingDays = (1...settings.snapshots).reversed().map { validationDay - $0 * settings.horizonDays }
        let asOfDays = trainingDays + [validationDay]
        progress?("building features for \(asOfDays.map(DayNumber.iso).joined(separator: ", "))")
        let table = try buildFeatures(FeatureSettings(asOfDays: asOfDays, horizonDays: settings.horizonDays,
                                                      marketRates: settings.marketRates, dataEndDay: dataEnd)) { done in
            progress?("features: \(done) properties")
        }
        var warnings: [String] = []
        if table.marketRateCarried {
            warnings.append("an as-of date is past the end of the market-rate table: its last rate was carried forward")
        }
        let validationIndex = Int32(settings.snapshots)
        let trainingRows = (0..<table.count).filter { table.snapshot[$0] < validationIndex }
        let validationRows = (0..<table.count).filter { table.snapshot[$0] == validationIndex }
        guard !trainingRows.isEmpty, !validationRows.isEmpty else {
            throw ListwiseError.usage("no homes exist at the training or validation dates; import more history or choose another --as-of")
        }
        let trainingLabels = trainingRows.map { table.label[$0] }
        let validationLabels = validationRows.map { table.label[$0] }
        guard Set(trainingLabels).count == 2 else {
            throw ListwiseError.usage("the training snapshots have only one class (no listings or no non-listings)")
        }

        var features = RawFeature.allCases
        var notes: [String] = []
        if !table.hasOwnerHistory {
            features.removeAll { $0.needsOwnerHistory }
            notes.append("no owners.csv history: owner age, absentee and corporate features were left out")
            warnings.append(notes.last!)
        }
        let transforms = features.map { feature in
            FeaturePlan.learn(feature, values: trainingRows.map { table.values[feature.rawValue][$0] })
        }
        progress?("design matrix: \(trainingRows.count) x \(transforms.reduce(0) { $0 + $1.columns.count })")
        let trainingDesign = try DesignMatrix.build(table, transforms: transforms, rows: trainingRows)
        let validationDesign = try DesignMatrix.build(table, transforms: transforms, rows: validationRows)

        func fitAndValidate(_ l2: Double) throws -> (LogisticFit, ModelMetrics) {
            let fit = try LogisticRegression.fit(trainingDesign, trainingLabels, settings: LogisticSettings(l2: l2))
            let eta = try BLAS.multiply(validationDesign, fit.coefficients)
            let p = eta.map { LogisticRegression.sigmoid($0 + fit.intercept) }
            return (fit, Metrics.evaluate(y: validationLabels, p: p))
        }
        var trials: [PenaltyTrial] = []
        var best: (l2: Double, fit: LogisticFit, metrics: ModelMetrics)?
        let candidates: [Double]
        switch settings.penalty {
        case .fixed(let l2): candidates = [l2]
        case .auto: candidates = settings.penaltyGrid
        }
        for l2 in candidates {
            progress?("fitting with l2 = \(l2)")
            let (fit, metrics) = try fitAndValidate(l2)
            trials.append(PenaltyTrial(l2: l2, validationLogLoss: metrics.logLoss, validationAUC: metrics.rocAUC))
            if best == nil || metrics.logLoss < best!.metrics.logLoss { best = (l2, fit, metrics) }
        }
        let chosen = best!
        if !chosen.fit.converged {
            warnings.append(chosen.fit.separable
                ? "the training data look separable: probabilities reach 0 or 1; use a larger --l2"
                : "the fit did not converge in \(chosen.fit.iterations) iterations")
        }
        let model = LikelyToSellModel(
            formatVersion: LikelyToSellModel.formatVersion,
            createdAt: Self.timestamp(Date()),
            horizonDays: settings.horizonDays,
            trainingAsOf: trainingDays.map(DayNumber.iso),
            validationAsOf: DayNumber.iso(validationDay),
            l2: chosen.l2, converged: chosen.fit.converged, iterations: chosen.fit.iterations,
            features: transforms, intercept: chosen.fit.intercept, coefficients: chosen.fit.coefficients,
            metrics: chosen.metrics,
            rows: .init(training: trainingRows.count, trainingPositives: Int(trainingLabels.reduce(0, +)),
                        validation: validationRows.count, validationPositives: Int(validationLabels.reduce(0, +))),
            trainingFingerprint: DesignMatrix.fingerprint(trainingDesign, labels: trainingLabels),
            notes: notes,
            featureProfiles: features.map { feature in
                FeatureProfile.learn(feature.name, values: trainingRows.map { table.values[feature.rawValue][$0] })
            })
        return TrainingResult(model: model, trials: trials, warnings: warnings)
    }

    /// Re-scores a labelled snapshot with `model` and returns the metrics.
    public func evaluateModel(_ model: LikelyToSellModel, asOfDay: Int?, marketRates: MarketRates = .standard) throws -> ModelMetrics {
        try evaluateModels([model], asOfDay: asOfDay, marketRates: marketRates)[0]
    }

    /// The metrics of several models (of the same horizon) on one labelled snapshot, its
    /// features built once (default date: the first model's validation snapshot).
    public func evaluateModels(_ models: [LikelyToSellModel], asOfDay: Int?, marketRates: MarketRates = .standard) throws -> [ModelMetrics] {
        guard let model = models.first else { return [] }
        guard let dataEnd = try lastEventDay() else {
            throw ListwiseError.usage("the database has no events: import events before evaluating")
        }
        let day = asOfDay ?? DayNumber.parse(model.validationAsOf) ?? (dataEnd - model.horizonDays)
        guard day + model.horizonDays <= dataEnd else {
            throw ListwiseError.usage("as-of \(DayNumber.iso(day)) + \(model.horizonDays) days is past the last event (\(DayNumber.iso(dataEnd))): no labels to evaluate against")
        }
        let table = try buildFeatures(FeatureSettings(asOfDays: [day], horizonDays: model.horizonDays, marketRates: marketRates,
                                                      dataEndDay: dataEnd))
        guard table.count > 0 else { throw ListwiseError.usage("no homes to evaluate at \(DayNumber.iso(day))") }
        return try models.map { model in
            if !table.hasOwnerHistory, let missing = try model.rawFeatures().first(where: \.needsOwnerHistory) {
                throw ListwiseError.usage("the model needs '\(missing.name)', which comes from owners.csv, but the database has no owners")
            }
            return Metrics.evaluate(y: table.label, p: try model.probabilities(table))
        }
    }
}
