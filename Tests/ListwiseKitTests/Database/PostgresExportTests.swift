// Exports from a PostgreSQL store: the same bytes as from SQLite, and two marketers exporting
// overlapping territories at once never reach the same prospect inside the frequency cap.
import Foundation
import XCTest
@testable import ListwiseKit

final class PostgresExportTests: TemporaryFolderTestCase {
    private let day = DayNumber.from(year: 2025, month: 6, day: 30)

    func testSameListsAsSQLiteAndTheFileAndHistoryAreWritten() async throws {
        let (sqlite, postgres, zips) = try await bothStores()
        let model = try sqlite.trainModel(TrainingSettings()).model
        try sqlite.addTerritory(name: "north", definition: .zips(Array(zips.prefix(2))))
        try await postgres.addTerritory(name: "north", definition: .zips(Array(zips.prefix(2))))
        _ = try sqlite.score(model: model, settings: ScoreSettings(asOfDay: day, territory: "north", modelFile: "m.json"))
        _ = try await postgres.score(model: model, settings: ScoreSettings(asOfDay: day, territory: "north", modelFile: "m.json"))
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        var cases: [ExportSettings] = []
        for (channel, selection) in [(ExportChannel.mail, ExportSelection.top(120)), (.email, .topPercent(30)), (.ads, .minProbability(0.04)),
                                     (.mail, .topPercent(100))] {
            var settings = ExportSettings(campaign: "spring", channel: channel, selection: selection, territory: "north")
            settings.now = now
            cases.append(settings)
        }
        cases[3].includeOnMarket = true
        for (index, settings) in cases.enumerated() {
            let expected = try await sqlite.prepareExport(settings)
            let file = path("list-\(index).csv")
            let got = try await postgres.export(settings, to: file) { _ in XCTFail("a file export went to standard output") }
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)), expected.content, "\(settings.channel) \(settings.selection)")
            XCTAssertEqual(got.summary, expected.summary)
            XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int, 0o600)
            XCTAssertGreaterThan(expected.summary.exportedRows, 10)
        }
        // Standard output: the bytes handed to `emit`, and the history recorded.
        var emitted = Data()
        let streamed = try await postgres.export(cases[0], to: nil) { emitted.append($0) }
        let reference = try await sqlite.prepareExport(cases[0])
        XCTAssertEqual(emitted, reference.content)
        var capped = cases[0]
        capped.excludeContactedWithinDays = 30
        capped.now = now.addingTimeInterval(86_400)
        let again = try await postgres.export(capped, to: nil) { _ in }
        XCTAssertTrue(Set(again.prospectIDs).isDisjoint(with: streamed.prospectIDs))
        XCTAssertGreaterThan(again.summary.skipped["recently_contacted"] ?? 0, 0)
    }

    /// Two hosts export overlapping territories at the same moment, both with a 30-day cap:
    /// no prospect is in both lists, and the history holds each prospect once.
    func testTwoExportsAtOnceNeverReachTheSameProspectInsideTheCap() async throws {
        let (sqlite, first, zips) = try await bothStores()
        let second = try await PostgresStore.open(first.location)
        addTeardownBlock { await second.close() }
        let model = try sqlite.trainModel(TrainingSettings()).model
        try await first.addTerritory(name: "west", definition: .zips([zips[0], zips[1]]))
        try await first.addTerritory(name: "east", definition: .zips([zips[1], zips[2]]))
        for name in ["west", "east"] {
            _ = try await first.score(model: model, settings: ScoreSettings(asOfDay: day, territory: name, modelFile: "m.json"))
        }
        func settings(_ territory: String) -> ExportSettings {
            var settings = ExportSettings(campaign: "mailer-\(territory)", channel: .mail, selection: .topPercent(100), territory: territory)
            settings.excludeContactedWithinDays = 30
            return settings
        }
        let westSettings = settings("west"), eastSettings = settings("east")
        let westFile = path("west.csv"), eastFile = path("east.csv")
        async let west = first.export(westSettings, to: westFile) { _ in }
        async let east = second.export(eastSettings, to: eastFile) { _ in }
        let lists = try await [west, east]
        let overlap = Set(lists[0].prospectIDs).intersection(lists[1].prospectIDs)
        XCTAssertTrue(overlap.isEmpty, "\(overlap.count) prospects exported twice")
        XCTAssertGreaterThan(lists[0].prospectIDs.count + lists[1].prospectIDs.count, 100)
        // The one that went second saw the other's contacts in the shared zip.
        XCTAssertGreaterThan((lists[0].summary.skipped["recently_contacted"] ?? 0) + (lists[1].summary.skipped["recently_contacted"] ?? 0), 0)
        var history: [Int] = []
        for try await (rows, distinct) in try await first.client.query(
            "SELECT count(*)::bigint, count(DISTINCT prospect_id)::bigint FROM contact_history", logger: PostgresStoreTests.logger)
            .decode((Int, Int).self) {
            history = [rows, distinct]
        }
        XCTAssertEqual(history, [lists[0].prospectIDs.count + lists[1].prospectIDs.count, history[1]])
        XCTAssertEqual(history[0], history[1])
    }

    /// A measured campaign on the server: the same holdout as SQLite's for the same seed, recorded
    /// as held out, and the same results.
    func testHoldoutAndCampaignResultsMatchSQLite() async throws {
        let (sqlite, postgres, _) = try await bothStores()
        let model = try sqlite.trainModel(TrainingSettings()).model
        _ = try sqlite.score(model: model, settings: ScoreSettings(asOfDay: day, modelFile: "m.json"))
        _ = try await postgres.score(model: model, settings: ScoreSettings(asOfDay: day, modelFile: "m.json"))
        var settings = ExportSettings(campaign: "measured", channel: .mail, selection: .topPercent(100))
        settings.holdout = HoldoutRequest(percent: 20, seed: 11)
        settings.now = Date(timeIntervalSince1970: 1_751_400_000)   // 2025-07-01
        let expected = try await sqlite.export(settings, to: nil) { _ in }
        let got = try await postgres.export(settings, to: nil) { _ in }
        XCTAssertEqual(got.summary, expected.summary)
        XCTAssertGreaterThan(got.summary.heldOutRows, 100)
        XCTAssertEqual(Set(got.heldOutProspectIDs), Set(expected.heldOutProspectIDs))
        var later = settings
        later.holdout = HoldoutRequest(seed: 12)   // the campaign's 20 %; homes the mail list skipped are drawn now
        later.channel = .email
        let again = try await postgres.export(later, to: nil) { _ in }
        let sqliteAgain = try await sqlite.export(later, to: nil) { _ in }
        XCTAssertEqual(again.summary, sqliteAgain.summary)
        // Held-out prospects are skipped as such (a few earlier, for do-not-email) and never on the list.
        XCTAssertGreaterThan(again.summary.skipped["held_out"] ?? 0, got.heldOutProspectIDs.count * 9 / 10)
        XCTAssertTrue(Set(again.prospectIDs).isDisjoint(with: got.heldOutProspectIDs))

        let end = DayNumber.from(year: 2025, month: 12, day: 31)
        let a = try sqlite.campaignResults("measured", asOfDay: end), b = try await postgres.campaignResults("measured", asOfDay: end)
        XCTAssertEqual(a.tiers.map(\.tier), b.tiers.map(\.tier))
        for (x, y) in zip(a.tiers, b.tiers) {
            for (g, h) in [(x.contacted, y.contacted), (x.heldOut, y.heldOut)] {
                XCTAssertEqual([g.homes, g.listed, g.sold, g.listedOrSold, g.listedAfterExport], [h.homes, h.listed, h.sold, h.listedOrSold, h.listedAfterExport])
                XCTAssertEqual(g.predicted, h.predicted, accuracy: 1e-9)
            }
            XCTAssertEqual(x.ratio ?? -1, y.ratio ?? -1, accuracy: 1e-12)
        }
        XCTAssertGreaterThan(a.all?.heldOut.listedOrSold ?? 0, 0)
        XCTAssertEqual([a.verdict, a.asOf, a.listAsOf, a.firstExport], [b.verdict, b.asOf, b.listAsOf, b.firstExport])
        let names = try await postgres.measuredCampaigns(territory: nil)
        XCTAssertEqual(names, ["measured"])
    }
}
