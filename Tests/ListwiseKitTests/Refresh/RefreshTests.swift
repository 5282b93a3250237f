// Refresh: inbox processing (nothing lost), the lock (held, stale), retrain keeping the better
// model, and drift (PSI against a hand-computed value).
import Foundation
import GRDB
import Logging
import XCTest
@testable import ListwiseKit

final class RefreshTests: TemporaryFolderTestCase {
    private let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// An inbox holding a generated county's four files, plus `extra` files.
    private func inbox(properties: Int = 300, seed: UInt64 = 11, extra: [String: String] = [:]) throws -> String {
        let inbox = path("inbox")
        _ = try SampleGenerator(settings: SampleSettings(properties: properties, seed: seed)).write(to: inbox)
        for (name, text) in extra { try file("inbox/\(name)", text) }
        return inbox
    }

    private func models(with model: LikelyToSellModel? = nil, age days: Double = 0) throws -> String {
        let folder = path("models")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if let model {
            try model.write(to: folder + "/old.json")
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-days * 86_400)], ofItemAtPath: folder + "/old.json")
        }
        return folder
    }

    private func settings(_ inbox: String, models: String) -> RefreshSettings {
        var settings = RefreshSettings(inbox: inbox, asOfDay: DayNumber.parse("2025-12-31")!)
        settings.modelsFolder = models
        return settings
    }

    private func files(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    func testInboxFilesEndInProcessedOrFailedAndTheRestIsScored() async throws {
        // A trained model to score with, from a county like the one arriving.
        let trainedOn = try importedCounty(properties: 300, seed: 11)
        let model = try trainedOn.trainModel(TrainingSettings()).model
        let inbox = try inbox(extra: ["notes.csv": "colour,size\nred,3\n", "events-extra.csv": "property_id,event_type\nX,SALE\n",
                                      "empty.csv": ""])
        let db = try makeDatabase("refresh.db")
        let report = try await db.refresh(settings(inbox, models: try models(with: model)), logger: logger)
        XCTAssertEqual(report.processed, ["properties.csv", "owners.csv", "prospects.csv", "events.csv"], "the four kinds in order")
        XCTAssertEqual(Set(report.failed.keys), ["notes.csv", "events-extra.csv", "empty.csv"])
        XCTAssertEqual(files(inbox), ["failed", "processed"], "nothing left behind, nothing lost")
        XCTAssertEqual(files(inbox + "/processed").filter { $0.hasSuffix(".csv") && !$0.contains("rejects") },
                       ["events.csv", "owners.csv", "properties.csv", "prospects.csv"])
        XCTAssertEqual(files(inbox + "/failed"), ["empty.csv", "empty.csv.error", "events-extra.csv", "events-extra.csv.error",
                                                   "notes.csv", "notes.csv.error"])
        let reason = try String(contentsOfFile: inbox + "/failed/events-extra.csv.error", encoding: .utf8)
        XCTAssertTrue(reason.contains("event_date"), reason)
        XCTAssertEqual(try db.dataCounts(), try trainedOn.dataCounts())
        XCTAssertEqual(report.scoreRuns.count, 1)
        XCTAssertEqual(try db.scoreRun(id: report.scoreRuns[0], territory: nil).rows, 300)
        XCTAssertEqual(try db.read { try String.fetchOne($0, sql: "SELECT status FROM refresh_runs") }, "partial")

        // A second run finds an empty inbox: nothing imported, scored again.
        let again = try await db.refresh(settings(inbox, models: path("models")), logger: logger)
        XCTAssertEqual([again.processed.count, again.failed.count], [0, 0])
        XCTAssertEqual(try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM score_runs") }, 2)
    }

    func testASecondRefreshFailsAtOnceAndAStaleLockIsTakenOver() async throws {
        let db = try makeDatabase("lock.db")
        let held = try RefreshLock(databasePath: db.path)
        do {
            _ = try await db.refresh(settings(path("none"), models: path("none")), logger: logger)
            XCTFail("a second refresh ran")
        } catch {
            XCTAssertEqual((error as? ListwiseError)?.exitCode, 3)
            XCTAssertTrue("\(error)".contains("pid \(getpid())"), "\(error)")
        }
        held.release()
        // A lock file left by a process that is gone (its pid, no flock held).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        try "\(process.processIdentifier) 2026-01-01T00:00:00.000Z\n".write(toFile: db.path + ".refresh.lock", atomically: true, encoding: .utf8)
        let lock = try RefreshLock(databasePath: db.path)
        XCTAssertEqual(lock.staleOwner, process.processIdentifier)
        lock.release()
        XCTAssertNil(try RefreshLock(databasePath: db.path).staleOwner, "released cleanly: nothing stale")
    }

    func testRetrainKeepsTheModelThatValidatesBetter() async throws {
        let db = try importedCounty(properties: 600, seed: 12)
        let good = try db.trainModel(.logistic).model
        var bad = good
        bad.coefficients = good.coefficients.map { -$0 }   // the ranking upside down: ROC AUC 1 − AUC
        let worse = bad
        try FileManager.default.createDirectory(atPath: path("empty-inbox"), withIntermediateDirectories: true)

        // The old model is better than what the retrain makes: it stays.
        var keep = settings(path("empty-inbox"), models: try models(with: good, age: 40))
        keep.retrainAfterDays = 30
        keep.retrain = { _, _ in worse }
        let kept = try await db.refresh(keep, logger: logger)
        XCTAssertTrue(kept.retrained)
        XCTAssertTrue(kept.keptOldModel)
        XCTAssertEqual(files(path("models")), ["old.json"])
        XCTAssertEqual(try db.scoreRun(id: kept.scoreRuns[0], territory: nil).modelFile, path("models") + "/old.json")

        // A worse old model is replaced by the retrained one, which scores.
        try FileManager.default.removeItem(atPath: path("models"))
        var replace = settings(path("empty-inbox"), models: try models(with: bad, age: 40))
        replace.retrainAfterDays = 30
        let replaced = try await db.refresh(replace, logger: logger)
        XCTAssertFalse(replaced.keptOldModel)
        XCTAssertEqual(files(path("models")).count, 2)
        XCTAssertNotEqual(replaced.model, path("models") + "/old.json")
        XCTAssertEqual(try db.scoreRun(id: replaced.scoreRuns[0], territory: nil).modelFile, replaced.model)
        // The rescoring uses the given market rates (rate lock-in is a feature).
        var flatRates = settings(path("empty-inbox"), models: path("models"))
        flatRates.marketRates = MarketRates(yearly: (1990...2030).map { ($0, 20.0) })
        let flatRun = try await db.refresh(flatRates, logger: logger).scoreRuns[0]
        XCTAssertNotEqual(try db.scoredHomes(runID: flatRun).map(\.probability),
                          try db.scoredHomes(runID: replaced.scoreRuns[0]).map(\.probability))
        // Not old enough: no retrain.
        var young = settings(path("empty-inbox"), models: path("models"))
        young.retrainAfterDays = 30
        let youngReport = try await db.refresh(young, logger: logger)
        XCTAssertFalse(youngReport.retrained)
    }

    func testPopulationStabilityIndexAgainstAHandComputedValue() {
        // Expected shares .5 / .3 / .2, actual .4 / .4 / .2:
        // (.4-.5)·ln(.4/.5) + (.4-.3)·ln(.4/.3) + 0 = 0.0223144 + 0.0287682 = 0.0510826
        XCTAssertEqual(Drift.psi(expected: [0.5, 0.3, 0.2], actual: [0.4, 0.4, 0.2]), 0.051082562, accuracy: 1e-8)
        XCTAssertEqual(Drift.psi(expected: [0.5, 0.5], actual: [0.5, 0.5]), 0, accuracy: 1e-15)
        // Deciles and bins: values 1...10 (and one missing) give edges 2...9 with a top bin for 10.
        let profile = FeatureProfile.learn("x", values: (1...10).map(Double.init) + [.nan])
        XCTAssertEqual(profile.edges, [2, 3, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(profile.counts([1, 2, 2.5, 10, .nan]), [2, 1, 0, 0, 0, 0, 0, 0, 1, 1])
        XCTAssertEqual(profile.shares.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertEqual(Drift.psi(profile, counts: profile.shares.map { Int(($0 * 11).rounded()) })!, 0, accuracy: 1e-12)
    }

    func testStatusReportsDriftOfTheLatestScoring() throws {
        let db = try importedCounty(properties: 400, seed: 13)
        let model = try db.trainModel(TrainingSettings()).model
        try model.write(to: path("m.json"))
        XCTAssertEqual(try db.status(modelFile: path("m.json")).driftNote, "no score run of this model yet: run 'listwise score'")
        _ = try db.score(model: model, settings: ScoreSettings(asOfDay: DayNumber.parse("2025-12-31")!, modelFile: path("m.json")))
        let status = try db.status(modelFile: path("m.json"))
        XCTAssertEqual(status.counts.properties, 400)
        XCTAssertEqual(status.drift.count, model.featureProfiles?.count)
        XCTAssertEqual(status.drift.count, RawFeature.allCases.count)
        let tenure = status.drift.first { $0.feature == "tenure_years" }!
        XCTAssertLessThan(tenure.psi, Drift.threshold, "a year later, the same county: no major drift")
        // Home age moves by a year or more for every home between training and scoring dates.
        let homeAge = status.drift.first { $0.feature == "home_age" }!
        XCTAssertGreaterThan(homeAge.psi, 0)
        XCTAssertEqual(status.lastScoreRun?.rows, 400)
    }

    /// A measured campaign whose planted effect arrives with a refresh's events: the refresh
    /// reports it as having become significant, `status` says so, and the next refresh does not.
    func testARefreshTellsWhichCampaignsBecameSignificant() async throws {
        let county = path("county")
        _ = try SampleGenerator(settings: SampleSettings(properties: 1_500, seed: 11)).write(to: county)
        let db = try makeDatabase("measured.db")
        for kind in [ImportKind.properties, .owners, .prospects] { _ = try db.importFile(county + "/\(kind.rawValue).csv", kind: kind) }
        let lines = try String(contentsOfFile: county + "/events.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        let isOld = { (line: String) in line.split(separator: ",", omittingEmptySubsequences: false)[2] <= "2024-12-31" }
        _ = try db.importFile(try file("old-events.csv", ([lines[0]] + lines.dropFirst().filter(isOld)).joined(separator: "\n") + "\n"), kind: .events)
        let model = try db.trainModel(.logistic).model
        let run = try db.score(model: model, settings: ScoreSettings(asOfDay: DayNumber.parse("2024-12-31")!, modelFile: "m.json"))
        var export = ExportSettings(campaign: "measured", channel: .mail, selection: .topPercent(100))
        export.runID = run.runID
        export.holdout = HoldoutRequest(percent: 20, seed: 2)
        export.now = ISO8601DateFormatter().date(from: "2025-01-02T12:00:00Z")!
        let list = try await db.prepareExport(export)
        try db.recordExport(list)
        // 2025's events, and a listing in March for every other contacted home.
        let inbox = path("inbox")
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        try file("inbox/events-2025.csv", ([lines[0]] + lines.dropFirst().filter { !isOld($0) }).joined(separator: "\n") + "\n")
        let contactedHomes = Set(list.prospectIDs.compactMap { list.prospectHomes[$0] }).sorted()
        try file("inbox/events-planted.csv", "property_id,event_type,event_date\n"
                 + contactedHomes.enumerated().filter { $0.offset % 2 == 0 }.map { "\($0.element),LISTING,2025-03-01" }.joined(separator: "\n") + "\n")
        XCTAssertFalse(try db.campaignResults("measured", asOfDay: nil).significant)

        let models = try models(with: model)
        let report = try await db.refresh(settings(inbox, models: models), logger: logger)
        XCTAssertEqual(report.processed, ["events-2025.csv", "events-planted.csv"])
        XCTAssertEqual(report.campaignsBecameSignificant?.map(\.campaign), ["measured"])
        XCTAssertTrue(report.campaignsBecameSignificant?.first?.verdict.hasSuffix("significant") ?? false)
        let status = try db.status(modelFile: nil)
        XCTAssertEqual(status.lastRefresh?.campaignsBecameSignificant.map(\.campaign), ["measured"])
        let again = try await db.refresh(settings(inbox, models: models), logger: logger)
        XCTAssertEqual(again.campaignsBecameSignificant, [], "already significant before this refresh")
        XCTAssertEqual(try db.status(modelFile: nil).lastRefresh?.campaignsBecameSignificant, [])
    }
}
