// Migration v11: a history written before holdouts keeps its meaning (everyone contacted, each
// prospect's home taken from the prospects), and the campaign goes on without a holdout.
import Foundation
import GRDB
import XCTest
@testable import ListwiseKit

final class HoldoutMigrationTests: TemporaryFolderTestCase {
    func testAnOldHistoryIsContactedWithItsHomesFilledIn() async throws {
        let file = path("old.db")
        do {
            let pool = try DatabasePool(path: file)
            try AppDatabase.migrator.migrate(pool, upTo: "v10-score-ranks")
            try await pool.write { db in
                try db.execute(sql: """
                    INSERT INTO properties (property_id, address, city, state, zip) VALUES ('P1', '1 A St', 'Town', 'CA', '94000');
                    INSERT INTO prospects (prospect_id, property_id, first_name, last_name) VALUES ('C1', 'P1', 'Ann', 'Lee');
                    INSERT INTO score_runs (id, model_file, model_fingerprint, as_of, horizon_days, started_at, finished_at, rows, on_market)
                        VALUES (1, 'm.json', 'f', '2025-06-30', 365, '2025-07-01T00:00:00.000Z', '2025-07-01T00:00:01.000Z', 1, 0);
                    INSERT INTO campaigns (name, created_at) VALUES ('old', '2025-07-01T00:00:00.000Z');
                    INSERT INTO exports (id, campaign, channel, run_id, selection, destination, exported_at, rows, prospects)
                        VALUES (1, 'old', 'mail', 1, 'top 1', '-', '2025-07-01T00:00:00.000Z', 1, 1);
                    INSERT INTO contact_history (export_id, prospect_id) VALUES (1, 'C1');
                    """)
            }
        }
        let db = try AppDatabase(path: file)
        let row = try db.read { try Row.fetchOne($0, sql: "SELECT property_id, held_out FROM contact_history") }
        XCTAssertEqual(row?["property_id"], "P1")
        XCTAssertEqual(row?["held_out"], 0)
        XCTAssertEqual(try db.campaigns().map(\.prospects), [1])
        XCTAssertEqual(try db.campaigns().map(\.holdoutPercent), [nil])
        let results = try db.campaignResults("old", asOfDay: DayNumber.from(year: 2025, month: 9, day: 30))
        XCTAssertEqual(results.all?.contacted.homes, 1)
        XCTAssertTrue(results.verdict.hasPrefix("no holdout"), results.verdict)
        XCTAssertEqual(try db.measuredCampaigns(territory: nil), [])
    }
}
