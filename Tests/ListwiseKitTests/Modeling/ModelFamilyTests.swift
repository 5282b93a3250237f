// The two model families (SPEC §10) on a generated county: gbm's tree count and calibration and
// auto's choice come from the inner split and never from the out-of-time validation; tree model
// files round-trip, score as they evaluate, and logistic files of before still load.
import Foundation
import XCTest
@testable import ListwiseKit

final class ModelFamilyTests: TemporaryFolderTestCase {
    /// Half of the homes now list 10 days after T: the out-of-time outcomes change, nothing before T does.
    private func rewriteOutcomesAfter(_ model: LikelyToSellModel, in db: AppDatabase) throws {
        let t = DayNumber.parse(model.validationAsOf)!
        try db.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO events (property_id, event_date, event_type, amount, rate)
                SELECT property_id, ?, 'LISTING', -1, -1
                FROM (SELECT property_id, row_number() OVER (ORDER BY property_id) AS n FROM properties) WHERE n % 2 = 0
                """, arguments: [DayNumber.iso(t + 10)])
        }
    }

    func testTreesAreStoppedAndCalibratedOnTheInnerSplitAndNeverSeeTheValidation() throws {
        let db = try importedCounty(properties: 3000, seed: 21)
        var settings = TrainingSettings()
        settings.family = .gbm
        let first = try db.trainModel(settings).model
        XCTAssertEqual(first.modelFamily, .gbm)
        XCTAssertEqual(first.formatVersion, LikelyToSellModel.treesFormatVersion)
        let choice = try XCTUnwrap(first.familyChoice)
        XCTAssertEqual(choice.requested, "gbm")
        XCTAssertEqual(choice.innerTrainingAsOf, [first.trainingAsOf[0]], "fitted on the older training snapshot")
        XCTAssertEqual(choice.innerValidationAsOf, first.trainingAsOf[1], "stopped on the newest training snapshot")
        XCTAssertEqual(choice.trials.map(\.family), [.gbm])
        let trees = try XCTUnwrap(first.trees)
        XCTAssertEqual(trees.trees.count, choice.trials[0].trees, "refitted with the inner split's tree count")
        XCTAssertGreaterThan(trees.trees.count, 0)
        XCTAssertNil(trees.validationLogLoss, "the refit on every training snapshot has no validation")
        XCTAssertEqual(trees.features, RawFeature.allCases.map(\.name))
        let calibration = try XCTUnwrap(first.calibration)
        XCTAssertGreaterThan(calibration.a, 0.3, "Platt keeps the trees' order")
        XCTAssertGreaterThan(first.metrics.rocAUC, 0.6, "the generator's signal is learnable")
        XCTAssertEqual(first.metrics.expectedPositives / first.metrics.positives, 1, accuracy: 0.25)
        XCTAssertEqual(first.rows.training, choice.innerTrainingRows + choice.innerValidationRows)

        try rewriteOutcomesAfter(first, in: db)
        let second = try db.trainModel(settings).model
        XCTAssertNotEqual(second.metrics.logLoss, first.metrics.logLoss, "the validation outcomes did change")
        XCTAssertEqual(second.familyChoice, first.familyChoice, "early stopping does not depend on outcomes after T")
        XCTAssertEqual(second.trees, first.trees)
        XCTAssertEqual(second.calibration, first.calibration)
        XCTAssertEqual(second.trainingFingerprint, first.trainingFingerprint)
    }

    /// The gbm fingerprint hashes the labels, kept as bytes, as the doubles they stand for: the
    /// digest of the doubles themselves (model files' fingerprints do not change with the form).
    func testByteLabelsHashAsTheirDoubles() {
        for n in [0, 1, 4096, 10_001] {
            let labels: [UInt8] = (0..<n).map { ($0 * 7919) % 3 == 0 ? 1 : 0 }
            var bytes: [UInt8] = []
            Training.asDoubleBytes(labels) { bytes += $0 }
            XCTAssertEqual(bytes, labels.map(Double.init).withUnsafeBytes { Array($0) }, "\(n) labels")
        }
    }

    /// The trees' calibration keeps the inner split's slope and moves the intercept until the mean
    /// probability over the given rows is their base rate (the logistic model's own property).
    func testCentredPlattScalingKeepsTheSlopeAndMatchesTheBaseRate() {
        var random = SplitMix64(seed: 7)
        let scores = (0..<5000).map { _ in Double(random.next() >> 11) / Double(1 << 53) * 6 - 4 }
        let labels = scores.map { s in Double(random.next() >> 11) / Double(1 << 53) < 1 / (1 + exp(-(0.8 * s - 1.5))) ? 1.0 : 0 }
        for slope in [0.5, 1.0, 1.7] {
            let platt = PlattScaling.centred(slope: slope, scores: scores, positives: labels.reduce(0, +))
            XCTAssertEqual(platt.a, slope)
            let expected = scores.reduce(0) { $0 + platt.probability($1) }
            XCTAssertEqual(expected, labels.reduce(0, +), accuracy: 1e-8)
        }
        // The logistic regression of labels on scores is already centred: the same intercept.
        let fitted = try! PlattScaling.fit(scores: scores, labels: labels)
        XCTAssertEqual(PlattScaling.centred(slope: fitted.a, scores: scores, positives: labels.reduce(0, +)).b, fitted.b, accuracy: 1e-6)
    }

    /// The two-parameter Newton fit of the Platt scaling is the logistic regression of the labels
    /// on the scores (`LogisticRegression.fit`, itself checked against statsmodels), on one thread
    /// (a few scores) and two (many); constant scores give the base rate.
    func testPlattFitIsTheLogisticRegressionOfTheLabelsOnTheScores() throws {
        var random = SplitMix64(seed: 9)
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        for n in [3000, 40_001] {
            let scores = (0..<n).map { _ in uniform() * 5 - 4 }
            let labels = scores.map { s in uniform() < 1 / (1 + exp(-(1.3 * s + 0.4))) ? 1.0 : 0 }
            let platt = try PlattScaling.fit(scores: scores, labels: labels)
            let reference = try LogisticRegression.fit(Matrix(rows: n, columns: 1, values: scores), labels)
            XCTAssertEqual(platt.a, reference.coefficients[0], accuracy: 1e-9, "\(n) scores")
            XCTAssertEqual(platt.b, reference.intercept, accuracy: 1e-9, "\(n) scores")
            XCTAssertEqual(platt.a, 1.3, accuracy: 0.15)
        }
        let constant = try PlattScaling.fit(scores: [Double](repeating: -2, count: 100), labels: (0..<100).map { $0 < 20 ? 1 : 0 })
        XCTAssertEqual(constant.a, 0)
        XCTAssertEqual(constant.b, log(0.2 / 0.8), accuracy: 1e-12)
    }

    func testAutoKeepsTheFamilyWithTheLowerInnerLogLossAndNeverSeesTheValidation() throws {
        let db = try importedCounty(properties: 3000, seed: 22)
        let settings = TrainingSettings()
        XCTAssertEqual(settings.family, .auto, "auto is the default")
        let first = try db.trainModel(settings).model
        let choice = try XCTUnwrap(first.familyChoice)
        XCTAssertEqual(choice.requested, "auto")
        XCTAssertEqual(Set(choice.trials.map(\.family)), [.logistic, .gbm])
        XCTAssertEqual(choice.chosen, choice.trials.min { $0.logLoss < $1.logLoss }!.family)
        XCTAssertEqual(first.modelFamily, choice.chosen)
        // Both families' inner figures are real fits: neither is a copy of the other.
        XCTAssertNotEqual(choice.trials[0].logLoss, choice.trials[1].logLoss)

        // The logistic inner trial is the fit --l2 auto would score for the same penalty.
        var logisticOnly = settings
        logisticOnly.family = .logistic
        logisticOnly.penalty = .auto
        logisticOnly.penaltyGrid = [1]
        let tuned = try XCTUnwrap(try db.trainModel(logisticOnly).model.tuning)
        XCTAssertEqual(choice.trials.first { $0.family == .logistic }!.logLoss, tuned.trials[0].logLoss, accuracy: 1e-12)

        try rewriteOutcomesAfter(first, in: db)
        let second = try db.trainModel(settings).model
        XCTAssertNotEqual(second.metrics.logLoss, first.metrics.logLoss)
        XCTAssertEqual(second.familyChoice, first.familyChoice, "the choice does not depend on outcomes after T")
        XCTAssertEqual(second.trainingFingerprint, first.trainingFingerprint)

        // Forcing each family gives the model auto would have kept for it.
        for family in [ModelFamily.logistic, .gbm] {
            var forced = settings
            forced.family = family == .gbm ? .gbm : .logistic
            let model = try db.trainModel(forced).model
            XCTAssertEqual(model.modelFamily, family)
            if family == choice.chosen { XCTAssertEqual(model.trainingFingerprint, second.trainingFingerprint) }
        }
    }

    func testTreeModelFilesRoundTripAndScoreAsTheyEvaluate() throws {
        let db = try importedCounty(properties: 2000, seed: 23)
        var settings = TrainingSettings()
        settings.family = .gbm
        let model = try db.trainModel(settings).model
        let file = path("trees.json")
        try model.write(to: file)
        let loaded = try LikelyToSellModel.load(path: file)
        XCTAssertEqual(loaded, model)
        let evaluated = try db.evaluateModel(loaded, asOfDay: nil)
        XCTAssertEqual(evaluated.rocAUC, model.metrics.rocAUC, accuracy: 1e-12, "evaluate re-scores the validation snapshot")
        XCTAssertEqual(evaluated.logLoss, model.metrics.logLoss, accuracy: 1e-12)

        // Scoring (TreeSHAP tables: raw score = expected value + contributions) gives the
        // probabilities of the plain tree walk, and reasons from the largest contributions.
        let day = DayNumber.parse(model.validationAsOf)!
        let table = try db.buildFeatures(FeatureSettings(asOfDays: [day], horizonDays: 365, marketRates: .standard,
                                                         includeOnMarket: true))
        let features = try loaded.rawFeatures()
        let scored = try HomeScore.scores(of: table, model: loaded, features: features)
        let plain = try loaded.probabilities(table)
        XCTAssertEqual(scored.count, table.count)
        for (score, p) in zip(scored, plain) { XCTAssertEqual(score.probability, p, accuracy: 1e-12) }
        let trees = try XCTUnwrap(loaded.trees)
        for row in stride(from: 0, to: table.count, by: 97) {
            let (phi, _) = TreeSHAP.contributions(trees) { table.values[features[$0].rawValue][row] }
            let expected = Reasons.top(phi) { Reasons.phrase(features[$0], table.values[features[$0].rawValue][row]) }
            XCTAssertEqual(scored[row].reasons, expected, "row \(row)")
        }
        XCTAssertGreaterThan(scored.filter { $0.reasons.count == 3 }.count, scored.count / 2)

        // A score run with the tree model: every home scored, probabilities as above.
        let summary = try db.score(model: loaded, settings: ScoreSettings(asOfDay: day, modelFile: file))
        XCTAssertEqual(summary.rows, table.count)
        XCTAssertEqual(summary.expectedListings, zip(scored, plain).filter { !$0.0.onMarket }.reduce(0) { $0 + $1.1 }, accuracy: 1e-6)
    }

    func testLogisticFilesOfBeforeStillLoadAndTreeFilesNeedTheirVersion() throws {
        let db = try importedCounty(properties: 1500, seed: 24)
        var settings = TrainingSettings()
        settings.family = .logistic
        let model = try db.trainModel(settings).model
        XCTAssertNil(model.family, "a logistic model without a family choice writes the file of before")
        XCTAssertEqual(model.formatVersion, 1)
        let file = path("logistic.json")
        try model.write(to: file)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        for key in ["\"family\"", "\"trees\"", "\"calibration\"", "\"family_choice\""] { XCTAssertFalse(text.contains(key), key) }
        let loaded = try LikelyToSellModel.load(path: file)
        XCTAssertEqual(loaded.modelFamily, .logistic)
        XCTAssertEqual(try db.evaluateModel(loaded, asOfDay: nil).rocAUC, model.metrics.rocAUC, accuracy: 1e-12)

        // A gbm file claiming version 1, or with a broken tree, is a usage error.
        settings.family = .gbm
        var trees = try db.trainModel(settings).model
        trees.formatVersion = 1
        try trees.write(to: path("v1-trees.json"))
        XCTAssertThrowsError(try LikelyToSellModel.load(path: path("v1-trees.json"))) { error in
            XCTAssertEqual((error as? ListwiseError)?.exitCode, 2)
        }
        trees.formatVersion = 2
        trees.trees!.trees[0].left[0] = 0
        try trees.write(to: path("broken-trees.json"))
        XCTAssertThrowsError(try LikelyToSellModel.load(path: path("broken-trees.json"))) { error in
            XCTAssertEqual((error as? ListwiseError)?.exitCode, 2)
            XCTAssertTrue("\(error)".contains("malformed"), "\(error)")
        }
    }
}
