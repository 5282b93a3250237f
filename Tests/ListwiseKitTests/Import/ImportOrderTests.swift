// The import does not depend on the order of its input: the same county written by property,
// by date (as feeds arrive) and shuffled, dirty rows included, gives identical tables, counts
// and rejects; the last of a key's rows wins whatever the order; a second import changes nothing.
import Foundation
import GRDB
import XCTest
@testable import ListwiseKit

final class ImportOrderTests: TemporaryFolderTestCase {
    /// Every table's rows in key order, as text.
    private func contents(_ db: AppDatabase) throws -> [String: [String]] {
        try db.read { db in
            var tables: [String: [String]] = [:]
            for (table, key) in [("properties", "property_id"), ("owners", "property_id, owner_since"), ("prospects", "prospect_id"),
                                 ("events", "property_id, event_date, event_type, amount, rate")] {
                tables[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(key)").map { $0.description }
            }
            return tables
        }
    }

    func testThreeOrdersOfTheSameRowsGiveIdenticalTables() throws {
        var results: [SampleOrder: (tables: [String: [String]], summaries: [[Int]], rejects: [String])] = [:]
        for order in SampleOrder.allCases {
            var settings = SampleSettings(properties: 300, seed: 11)
            settings.order = order
            let folder = path("county-\(order.rawValue)")
            _ = try SampleGenerator(settings: settings).write(to: folder)
            // Dirty rows, as feeds have them: an unknown home, a bad date, a repeated key with
            // new values (the last one must win), placed at the start, middle and end.
            let events = folder + "/events.csv"
            var lines = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n").map(String.init)
            let firstData = lines.dropFirst().min()!.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            lines.append("00000,SALE,2020-01-01,1,")   // unknown, last, sorts first: checked in memory when out of order
            lines.insert("\(firstData[0]),SALE,2020-13-01,1,", at: lines.count / 2)
            try (lines.joined(separator: "\n") + "\n").write(toFile: events, atomically: true, encoding: .utf8)
            let owners = folder + "/owners.csv"
            var ownerLines = try String(contentsOfFile: owners, encoding: .utf8).split(separator: "\n").map(String.init)
            // The same owner in every order: the first by key.
            let owner = ownerLines.dropFirst().min()!.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            ownerLines.append("\(owner[0]),\(owner[1]),1901,true,false")   // the same key again, last: wins
            try (ownerLines.joined(separator: "\n") + "\n").write(toFile: owners, atomically: true, encoding: .utf8)

            let db = try makeDatabase("\(order.rawValue).db")
            var summaries: [[Int]] = []
            var rejects: [String] = []
            for kind in ImportKind.importOrder {
                var options = ImportOptions()
                options.rejectsPath = path("\(order.rawValue)-\(kind.rawValue).rejects.csv")
                // Past 50 out-of-order rows, the property ids are checked in memory (the unknown
                // home must still be rejected).
                options.idSetAfterStagedRows = 50
                // Sorted runs of 4 KB: the out-of-order rows go through the temporary file and
                // a merge of many runs (a run of 32 MB would hold them all in memory).
                options.stagingRunBytes = 4096
                let summary = try db.importFile("\(folder)/\(kind.rawValue).csv", kind: kind, options: options)
                summaries.append([summary.rows, summary.inserted, summary.updated, summary.unchanged, summary.rejected])
                if let file = summary.rejectsFile {
                    // The same bad values and reasons (line numbers differ with the order).
                    rejects += try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").dropFirst()
                        .map { line in line.split(separator: ",").dropFirst(2).joined(separator: ",") }
                }
            }
            let ownerRow = try db.read { try Int.fetchOne($0, sql: "SELECT owner_birth_year FROM owners WHERE property_id = ? AND owner_since = ?",
                                                          arguments: [owner[0], owner[1]]) }
            XCTAssertEqual(ownerRow, 1901, "\(order): the last row of a repeated key wins")
            XCTAssertEqual(try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM temp.sqlite_master") }, 0, "no temporary table")

            // A second import of the same files changes nothing.
            for kind in ImportKind.importOrder {
                var options = ImportOptions()
                options.rejectsPath = path("again.rejects.csv")
                let again = try db.importFile("\(folder)/\(kind.rawValue).csv", kind: kind, options: options)
                XCTAssertEqual(again.inserted, 0, "\(order) \(kind)")
                // The repeated owner key changes twice (its first row, then its last), in every order.
                XCTAssertEqual(again.updated, kind == .owners ? 2 : 0, "\(order) \(kind)")
            }
            results[order] = (try contents(db), summaries, rejects.sorted())
        }
        let property = try XCTUnwrap(results[.property])
        XCTAssertGreaterThan(property.tables["events"]?.count ?? 0, 1000)
        XCTAssertEqual(property.rejects.count, 2)
        for order in [SampleOrder.date, .shuffled] {
            let other = try XCTUnwrap(results[order])
            for table in property.tables.keys.sorted() {
                XCTAssertEqual(other.tables[table], property.tables[table], "\(order): \(table)")
            }
            XCTAssertEqual(other.summaries, property.summaries, "\(order)")
            XCTAssertEqual(other.rejects, property.rejects, "\(order)")
        }
    }

    /// Rows of one key on both sides of the staging: the later row wins, and the summary counts
    /// every row once.
    func testLastRowOfAKeyWinsAcrossStagedAndDirectRows() throws {
        let db = try makeDatabase()
        try importBaseProperties(db)
        let owners = """
            property_id,owner_since,owner_birth_year
            P2,2010-01-01,1950
            P1,2000-01-01,1940
            P2,2010-01-01,1960
            P1,2000-01-01,1945
            P1,1990-05-05,1930

            """
        let summary = try db.importFile(try file("owners.csv", owners))
        XCTAssertEqual([summary.rows, summary.inserted, summary.updated, summary.unchanged], [5, 3, 2, 0])
        let stored = try db.read { try Row.fetchAll($0, sql: "SELECT property_id, owner_since, owner_birth_year FROM owners ORDER BY 1, 2") }
            .map { "\($0[0] as String) \($0[1] as String) \($0[2] as Int)" }
        XCTAssertEqual(stored, ["P1 1990-05-05 1930", "P1 2000-01-01 1945", "P2 2010-01-01 1960"])
    }
}
