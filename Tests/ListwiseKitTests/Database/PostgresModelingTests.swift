// The same county through both stores, end to end (import, train, evaluate, territory, score,
// read back): the same model, probabilities (to 1e-9), ranks, percentiles, tiers and reasons.
// And two hosts scoring different territories on one server at the same time.
import Foundation
import XCTest
@testable import ListwiseKit

extension TemporaryFolderTestCase {
    /// A generated county imported into a fresh SQLite file and a fresh PostgreSQL database.
    func bothStores(properties: Int = 1_200) async throws -> (sqlite: AppDatabase, postgres: PostgresStore, zips: [String]) {
        let county = path("county")
        _ = try SampleGenerator(settings: SampleSettings(properties: properties, seed: 29)).write(to: county)
        let sqlite = try AppDatabase(path: path("county.db"))
        let postgres = try await PostgresStore.open(try await PostgresStoreTests.freshDatabase(for: self))
        addTeardownBlock { await postgres.close() }
        for kind in [ImportKind.properties, .owners, .prospects, .events] {
            let file = county + "/\(kind.rawValue).csv"
            var options = ImportOptions()
            options.rejectsPath = path("\(kind.rawValue).rejects.csv")
            _ = try sqlite.importFile(file, kind: kind, options: options)
            _ = try await postgres.importFile(file, kind: kind, options: options)
        }
        let zips = try sqlite.read { db in try String.fetchAll(db, sql: "SELECT zip FROM properties GROUP BY zip ORDER BY count(*) DESC") }
        return (sqlite, postgres, zips)
    }
}

final class PostgresModelingTests: TemporaryFolderTestCase {

    private func assertSameScores(_ a: [ScoredHome], _ b: [ScoredHome], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        XCTAssertGreaterThan(a.count, 0, file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.propertyID, y.propertyID, file: file, line: line)
            XCTAssertEqual(x.probability, y.probability, accuracy: 1e-9, file: file, line: line)
            XCTAssertEqual([x.rank, x.tier, x.onMarket, x.reason1, x.reason2, x.reason3, x.address, x.zip] as [AnyHashable?],
                           [y.rank, y.tier, y.onMarket, y.reason1, y.reason2, y.reason3, y.address, y.zip] as [AnyHashable?], file: file, line: line)
            XCTAssertEqual(x.percentile ?? -1, y.percentile ?? -1, accuracy: 1e-9, file: file, line: line)
        }
    }

    func testSameModelScoresRanksAndTiersOnBothStores() async throws {
        let (sqlite, postgres, zips) = try await bothStores()
        // Training: the same rows in the same order give the same fit.
        var training = TrainingSettings()
        training.snapshots = 2
        let expected = try sqlite.trainModel(training).model
        let got = try await postgres.trainModel(training, progress: nil).model
        XCTAssertEqual(got.trainingFingerprint, expected.trainingFingerprint)
        XCTAssertEqual(got.rows.training, expected.rows.training)
        for (g, e) in zip(got.coefficients + [got.intercept], expected.coefficients + [expected.intercept]) {
            XCTAssertEqual(g, e, accuracy: 1e-9)
        }
        XCTAssertEqual(got.metrics.rocAUC, expected.metrics.rocAUC, accuracy: 1e-12)
        let evaluated = try await postgres.evaluateModels([expected], asOfDay: nil, marketRates: .standard)
        XCTAssertEqual(evaluated[0].logLoss, try sqlite.evaluateModels([expected], asOfDay: nil)[0].logLoss, accuracy: 1e-12)

        // Territories: the same warnings, contents and stored definition.
        let definition = TerritoryDefinition.zips([zips[0], "99999"])
        let warnings = try await postgres.addTerritory(name: "north", definition: definition)
        XCTAssertEqual(warnings, try sqlite.addTerritory(name: "north", definition: definition))
        let contents = try await postgres.territoryContents(definition)
        XCTAssertEqual(contents, try sqlite.territoryContents(definition))
        let stored = try await postgres.territory(named: "north")
        XCTAssertEqual(stored.definition, definition)
        do {
            _ = try await postgres.territory(named: "south")
            XCTFail("an unknown territory was found")
        } catch ListwiseError.usage(let message) {
            XCTAssertEqual(message, "no territory 'south' (known: north)")
        }

        // Score runs, whole county then the territory, read back by rank.
        let models = path("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try expected.write(to: models + "/m.json")
        for territory in [nil, "north"] as [String?] {
            let settings = ScoreSettings(asOfDay: DayNumber.from(year: 2025, month: 6, day: 30), territory: territory, modelFile: "m.json")
            let a = try sqlite.score(model: expected, settings: settings)
            let b = try await postgres.score(model: expected, settings: settings)
            XCTAssertEqual([b.rows, b.onMarket], [a.rows, a.onMarket])
            XCTAssertEqual(b.tierCounts, a.tierCounts)
            XCTAssertEqual(b.expectedListings, a.expectedListings, accuracy: 1e-9)
            let runA = try sqlite.scoreRun(id: nil, territory: territory), runB = try await postgres.scoreRun(id: nil, territory: territory)
            XCTAssertEqual(runB.id, b.runID)
            XCTAssertEqual([runB.asOf, runB.modelFingerprint, runB.territory ?? "-"], [runA.asOf, runA.modelFingerprint, runA.territory ?? "-"])
            XCTAssertEqual(runB.rows, a.rows)
            // Read back with its times: a run newer than the model and the imports is fresh.
            XCTAssertNotNil(ISO8601DateFormatter.listwise.date(from: runB.startedAt), runB.startedAt)
            let staleness = try await postgres.stalenessWarning(for: runB, modelsFolder: models)
            XCTAssertNil(staleness)
            XCTAssertNil(try sqlite.stalenessWarning(for: runA, modelsFolder: models))
            let countsA = try JSONSerialization.jsonObject(with: Data(runA.featureCounts!.utf8)) as! NSDictionary
            let countsB = try JSONSerialization.jsonObject(with: Data(runB.featureCounts!.utf8)) as! NSDictionary
            XCTAssertEqual(countsB, countsA)
            assertSameScores(try await postgres.scoredHomes(runID: b.runID, limit: nil), try sqlite.scoredHomes(runID: a.runID))
            assertSameScores(try await postgres.scoredHomes(runID: b.runID, limit: 25), try sqlite.scoredHomes(runID: a.runID, limit: 25))
        }
        do {
            _ = try await postgres.scoreRun(id: 99, territory: nil)
            XCTFail("run 99 was found")
        } catch ListwiseError.usage(let message) {
            XCTAssertEqual(message, "no score run 99")
        }
    }

    /// Two hosts (two connections) score two territories at the same time: both runs commit,
    /// each complete, and each equal to its run on SQLite.
    func testTwoHostsScoringDifferentTerritoriesAtOnceBothSucceed() async throws {
        let (sqlite, first, zips) = try await bothStores(properties: 1_500)
        let second = try await PostgresStore.open(first.location)
        addTeardownBlock { await second.close() }
        let model = try sqlite.trainModel(TrainingSettings()).model
        for (name, zip) in [("east", zips[0]), ("west", zips[1])] {
            try await first.addTerritory(name: name, definition: .zips([zip]))
            try sqlite.addTerritory(name: name, definition: .zips([zip]))
        }
        let day = DayNumber.from(year: 2025, month: 6, day: 30)
        async let east = first.score(model: model, settings: ScoreSettings(asOfDay: day, territory: "east", modelFile: "m.json"))
        async let west = second.score(model: model, settings: ScoreSettings(asOfDay: day, territory: "west", modelFile: "m.json"))
        let runs = try await [east, west]
        XCTAssertNotEqual(runs[0].runID, runs[1].runID)
        for (run, name) in zip(runs, ["east", "west"]) {
            let expected = try sqlite.score(model: model, settings: ScoreSettings(asOfDay: day, territory: name, modelFile: "m.json"))
            XCTAssertEqual(run.rows, expected.rows)
            let latest = try await first.scoreRun(id: nil, territory: name)
            XCTAssertEqual(latest.id, run.runID)
            assertSameScores(try await first.scoredHomes(runID: run.runID, limit: nil), try sqlite.scoredHomes(runID: expected.runID))
        }
    }
}
