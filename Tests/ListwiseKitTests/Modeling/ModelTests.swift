// Basis expansion, the training protocol on a generated county, and the model file.
import Foundation
import XCTest
@testable import ListwiseKit

final class ModelTests: TemporaryFolderTestCase {
    func testNaturalSplineIsLinearBeyondTheBoundaryKnotsAndStandardised() {
        let values = (0..<200).map { Double($0) / 10 }   // 0 ... 19.9
        let transform = FeaturePlan.learn(.tenureYears, values: values)
        XCTAssertEqual(transform.kind, .naturalSpline)
        XCTAssertEqual(transform.knots.count, 5)
        XCTAssertEqual(transform.columns.count, 4)
        XCTAssertFalse(transform.missingIndicator)
        var a: [Double] = [], b: [Double] = [], c: [Double] = []
        transform.basis(30, into: &a); transform.basis(40, into: &b); transform.basis(50, into: &c)
        for j in a.indices { XCTAssertEqual(c[j] - b[j], b[j] - a[j], accuracy: 1e-6 * max(1, abs(c[j]))) }
        transform.basis(-30, into: &a); transform.basis(-20, into: &b); transform.basis(-10, into: &c)
        for j in a.indices { XCTAssertEqual(c[j] - b[j], b[j] - a[j], accuracy: 1e-9) }
        // Standardised training columns: mean 0, standard deviation 1.
        var scratch: [Double] = []
        var columns = Array(repeating: [Double](), count: 4)
        let target = UnsafeMutablePointer<Double>.allocate(capacity: 4)
        defer { target.deallocate() }
        for v in values {
            transform.write(v, into: target, scratch: &scratch)
            for j in 0..<4 { columns[j].append(target[j]) }
        }
        for column in columns {
            let mean = column.reduce(0, +) / Double(column.count)
            let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(column.count)
            XCTAssertEqual(mean, 0, accuracy: 1e-9)
            XCTAssertEqual(variance, 1, accuracy: 1e-9)
        }
    }

    func testOwnerAgeHingesAt65And82AndMissingGetsAnIndicator() {
        let transform = FeaturePlan.learn(.ownerAge, values: [40, 60, 70, 90, .nan])
        XCTAssertEqual(transform.columns, ["owner_age", "owner_age_over_65", "owner_age_over_82", "owner_age_missing"])
        var basis: [Double] = []
        transform.basis(90, into: &basis)
        XCTAssertEqual(basis, [90, 25, 8])
        transform.basis(.nan, into: &basis)
        XCTAssertEqual(basis, [65, 7.5, 2], "missing → the training means of the basis, so it standardises to 0")
    }

    func testTrainingOnAGeneratedCountyLearnsAndTheModelFileRoundTrips() throws {
        let db = try importedCounty(properties: 4000, seed: 9)
        var settings = TrainingSettings.logistic
        settings.snapshots = 2
        let result = try db.trainModel(settings)
        let model = result.model
        XCTAssertEqual(model.validationAsOf, "2024-12-28", "the last event date minus the horizon")
        XCTAssertEqual(model.trainingAsOf, ["2022-12-29", "2023-12-29"])
        XCTAssertTrue(model.converged)
        XCTAssertGreaterThan(model.metrics.rocAUC, 0.6, "the generator's signal is learnable")
        XCTAssertGreaterThan(model.metrics.deciles[0].lift, 1.5)
        XCTAssertEqual(model.coefficients.count, model.columnNames.count)
        XCTAssertEqual(model.rows.validation, model.metrics.rows)

        let file = path("model.json")
        try model.write(to: file)
        let loaded = try LikelyToSellModel.load(path: file)
        XCTAssertEqual(loaded, model)
        let evaluated = try db.evaluateModel(loaded, asOfDay: nil)
        XCTAssertEqual(evaluated.rocAUC, model.metrics.rocAUC, accuracy: 1e-12, "evaluate re-scores the validation snapshot")
        XCTAssertEqual(evaluated.logLoss, model.metrics.logLoss, accuracy: 1e-12)
    }

    func testAutoPenaltyIsChosenOnTheInnerSplitAndNeverSeesTheValidation() throws {
        let db = try importedCounty(properties: 3000, seed: 21)
        var settings = TrainingSettings.logistic
        settings.penalty = .auto
        settings.snapshots = 2
        let first = try db.trainModel(settings).model
        let tuning = try XCTUnwrap(first.tuning)
        XCTAssertEqual(tuning.innerTrainingAsOf, [first.trainingAsOf[0]], "fitted on the older training snapshot")
        XCTAssertEqual(tuning.innerValidationAsOf, first.trainingAsOf[1], "scored on the newest training snapshot")
        XCTAssertLessThan(tuning.innerValidationAsOf, first.validationAsOf)
        XCTAssertEqual(tuning.trials.map(\.l2), settings.penaltyGrid)
        XCTAssertEqual(tuning.chosenL2, tuning.trials.min { $0.logLoss < $1.logLoss }!.l2)
        XCTAssertEqual(first.l2, tuning.chosenL2)
        XCTAssertEqual(first.trainingAsOf.count, 2, "refitted on every training snapshot")
        XCTAssertEqual(tuning.innerTrainingRows + tuning.innerValidationRows, first.rows.training)

        // Rewrite the outcomes of the out-of-time validation: half of the homes now list 10 days
        // after T. The validation changes; the choice and the fit must not.
        let t = DayNumber.parse(first.validationAsOf)!
        try db.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO events (property_id, event_date, event_type, amount, rate)
                SELECT property_id, ?, 'LISTING', -1, -1
                FROM (SELECT property_id, row_number() OVER (ORDER BY property_id) AS n FROM properties) WHERE n % 2 = 0
                """, arguments: [DayNumber.iso(t + 10)])
        }
        let second = try db.trainModel(settings).model
        XCTAssertNotEqual(second.metrics.logLoss, first.metrics.logLoss, "the validation outcomes did change")
        XCTAssertEqual(second.tuning, tuning, "the inner-split trials do not depend on outcomes after T")
        XCTAssertEqual(second.coefficients, first.coefficients)
        XCTAssertEqual(second.trainingFingerprint, first.trainingFingerprint)

        // One training snapshot: the inner fit uses the snapshot one horizon before it.
        settings.snapshots = 1
        let single = try XCTUnwrap(try db.trainModel(settings).model.tuning)
        XCTAssertEqual(single.innerValidationAsOf, first.trainingAsOf[1])
        XCTAssertEqual(single.innerTrainingAsOf, [first.trainingAsOf[0]])

        // A fixed penalty records no tuning.
        settings.penalty = .fixed(3)
        let fixed = try db.trainModel(settings).model
        XCTAssertNil(fixed.tuning)
        XCTAssertEqual(fixed.l2, 3)
    }

    func testModelFilesWithUnknownVersionsOrFeaturesAreUsageErrors() throws {
        let unknownVersion = try file("v9.json", #"{"format_version": 9}"#)
        XCTAssertThrowsError(try LikelyToSellModel.load(path: unknownVersion)) { error in
            XCTAssertEqual((error as? ListwiseError)?.exitCode, 2)
            XCTAssertTrue("\(error)".contains("format version 9"), "\(error)")
        }
        XCTAssertThrowsError(try LikelyToSellModel.load(path: try file("junk.json", "not json"))) { error in
            XCTAssertEqual((error as? ListwiseError)?.exitCode, 2)
        }
        let transform = FeaturePlan.learn(.bedrooms, values: [1, 2, 3])
        var model = LikelyToSellModel(
            formatVersion: 1, createdAt: "", horizonDays: 365, trainingAsOf: [], validationAsOf: "2024-01-01", l2: 1,
            converged: true, iterations: 1, features: [transform], intercept: 0, coefficients: [0.5],
            metrics: Metrics.evaluate(y: [0, 1], p: [0.2, 0.8]),
            rows: .init(training: 2, trainingPositives: 1, validation: 2, validationPositives: 1),
            trainingFingerprint: "", notes: [])
        model.features[0].feature = "crystal_ball"
        let path = self.path("unknown-feature.json")
        try model.write(to: path)
        XCTAssertThrowsError(try LikelyToSellModel.load(path: path)) { error in
            XCTAssertEqual((error as? ListwiseError)?.exitCode, 2)
            XCTAssertTrue("\(error)".contains("crystal_ball"), "\(error)")
        }
    }
}
