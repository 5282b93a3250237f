// Migration v10: a database scored before it (rank index, no score_ranks) gets its runs' rank
// order filled in, and the Data API pages it as before.
import Foundation
import GRDB
import XCTest
@testable import ListwiseKit

final class ScoreRanksMigrationTests: TemporaryFolderTestCase {
    func testRunsScoredBeforeTheMigrationGetTheirRankOrder() async throws {
        let file = path("old.db")
        do {
            let pool = try DatabasePool(path: file)
            try AppDatabase.migrator.migrate(pool, upTo: "v9-webhooks")
            try await pool.write { db in
                try db.execute(sql: """
                    INSERT INTO properties (property_id, address, city, state, zip) VALUES
                        ('P1', '1 A St', 'Town', 'CA', '94000'), ('P2', '2 A St', 'Town', 'CA', '94000'),
                        ('P3', '3 A St', 'Town', 'CA', '94000'), ('P4', '4 A St', 'Town', 'CA', '94000');
                    INSERT INTO score_runs (id, model_file, model_fingerprint, as_of, horizon_days, started_at, finished_at, rows, on_market)
                        VALUES (1, 'm.json', 'f', '2025-06-30', 365, '2025-07-01T00:00:00.000Z', '2025-07-01T00:00:01.000Z', 4, 1);
                    INSERT INTO scores (run_id, property_id, probability, rank, percentile, tier, on_market) VALUES
                        (1, 'P1', 0.2, 2, 50, 'Medium', 0), (1, 'P2', 0.5, 1, 100, 'High', 0),
                        (1, 'P3', 0.1, 3, 0, 'Low', 0), (1, 'P4', 0.9, NULL, NULL, NULL, 1);
                    """)
            }
        }
        let db = try AppDatabase(path: file)
        let ranks = try db.read { db in
            try Row.fetchAll(db, sql: "SELECT rank, property_id FROM score_ranks WHERE run_id = 1 ORDER BY rank, property_id")
                .map { "\($0[0] as Int) \($0[1] as String)" }
        }
        XCTAssertEqual(ranks, ["0 P4", "1 P2", "2 P1", "3 P3"])
        let indexes = try db.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'scores'") }
        XCTAssertFalse(indexes.contains("scores_by_rank"))
        let ranked = try await db.scoresPage(runID: 1, filter: ScoreFilter(), after: nil, limit: 10)
        XCTAssertEqual(ranked.map(\.propertyID), ["P2", "P1", "P3", "P4"], "ranked homes by rank, then the one on the market")
    }
}
