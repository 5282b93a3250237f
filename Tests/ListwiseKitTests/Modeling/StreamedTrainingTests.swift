// Training in bounded memory (issue 15): the fit over designs spilled to temporary files gives
// the model the in-memory fit gives on the same rows.
import XCTest
@testable import ListwiseKit

final class StreamedTrainingTests: TemporaryFolderTestCase {
    func testStreamedTrainingEqualsInMemoryTrainingTo1e9() throws {
        let db = try importedCounty(properties: 10_000, seed: 5)
        var settings = TrainingSettings.logistic
        settings.snapshots = 2
        // Small chunks and blocks: many raw blocks, design blocks that straddle them, two workers.
        settings.featureChunkRows = 3001
        settings.designBlockRows = 997
        let streamed = try db.trainModel(settings).model

        // The in-memory reference: every row's features in one table, whole design matrices.
        let plan = try TrainingPlan(settings, dataEnd: try db.lastEventDay())
        let table = try db.buildFeatures(plan.featureSettings(settings))
        func rows(_ days: [Int]) -> [Int] {
            let indices = Set(days.map { Int32(plan.asOfDays.firstIndex(of: $0)!) })
            return (0..<table.count).filter { indices.contains(table.snapshot[$0]) }
        }
        let trainingRows = rows(plan.trainingDays), validationRows = rows([plan.validationDay])
        XCTAssertGreaterThan(trainingRows.count, 4 * 4096, "enough rows for the fit to split its passes across threads")
        let transforms = RawFeature.allCases.map { feature in
            FeaturePlan.learn(feature, values: trainingRows.map { table.values[feature.rawValue][$0] })
        }
        XCTAssertEqual(streamed.features, transforms, "the same knots, means and scales")
        let design = try DesignMatrix.build(table, transforms: transforms, rows: trainingRows)
        let labels = trainingRows.map { table.label[$0] }
        let fit = try LogisticRegression.fit(design, labels, settings: LogisticSettings(l2: 1))
        XCTAssertTrue(fit.converged)
        XCTAssertEqual(streamed.intercept, fit.intercept, accuracy: 1e-9)
        XCTAssertEqual(streamed.coefficients.count, fit.coefficients.count)
        for (a, b) in zip(streamed.coefficients, fit.coefficients) { XCTAssertEqual(a, b, accuracy: 1e-9) }
        XCTAssertEqual(streamed.iterations, fit.iterations)
        XCTAssertEqual(streamed.trainingFingerprint, DesignMatrix.fingerprint(design, labels: labels),
                       "the spilled design holds the same bytes in the same order")
        XCTAssertEqual(streamed.featureProfiles, RawFeature.allCases.map { feature in
            FeatureProfile.learn(feature.name, values: trainingRows.map { table.values[feature.rawValue][$0] })
        })
        let validation = try DesignMatrix.build(table, transforms: transforms, rows: validationRows)
        let eta = try BLAS.multiply(validation, fit.coefficients)
        let metrics = Metrics.evaluate(y: validationRows.map { table.label[$0] },
                                       p: eta.map { LogisticRegression.sigmoid($0 + fit.intercept) })
        XCTAssertEqual(streamed.metrics.rows, validationRows.count)
        XCTAssertEqual(streamed.metrics.rocAUC, metrics.rocAUC, accuracy: 1e-9)
        XCTAssertEqual(streamed.metrics.logLoss, metrics.logLoss, accuracy: 1e-9)

        // The block sizes change the order of the sums only.
        let defaults = try db.trainModel(.logistic).model
        for (a, b) in zip(defaults.coefficients, streamed.coefficients) { XCTAssertEqual(a, b, accuracy: 1e-9) }
        XCTAssertEqual(defaults.trainingFingerprint, streamed.trainingFingerprint)
    }

    func testSpilledRowsReadBackExactly() throws {
        let rows = try TrainingRows()
        var expected: [[Double]] = Array(repeating: [], count: RawFeature.allCases.count)
        var snapshots: [Int32] = []
        for chunk in 0..<3 {
            var table = FeatureTable()
            let n = [5, 0, 7][chunk]
            for i in 0..<n {
                table.snapshot.append(Int32(i % 3))
                table.label.append(i % 4 == 0 ? .nan : Double(i % 2))
                table.propertyIDs.append("P\(i)")
                for f in RawFeature.allCases.indices {
                    let value = f == 2 && i == 1 ? Double.nan : Double(chunk * 1000 + i) + Double(f) / 7
                    table.values[f].append(value)
                    expected[f].append(value)
                }
            }
            snapshots += table.snapshot
            try rows.append(table)
        }
        XCTAssertEqual(rows.count, 12)
        XCTAssertEqual(rows.blocks.count, 2, "an empty chunk adds no block")
        let mask = rows.mask([0, 2])
        XCTAssertEqual(mask, snapshots.map { $0 != 1 })
        for feature in RawFeature.allCases {
            let got = try rows.values(feature, mask)
            let want = zip(expected[feature.rawValue], mask).compactMap { $1 ? $0 : nil }
            XCTAssertEqual(got.count, want.count)
            for (a, b) in zip(got, want) { XCTAssertTrue(a == b || (a.isNaN && b.isNaN), "\(feature): \(a) vs \(b)") }
        }
        let labels = rows.labels(rows.mask([0]))
        XCTAssertEqual(labels.count, 5)
        XCTAssertTrue(labels[0].isNaN && labels[2].isNaN, "unknown labels stay unknown")
        XCTAssertEqual([labels[1], labels[3], labels[4]], [1, 1, 0])
    }
}
