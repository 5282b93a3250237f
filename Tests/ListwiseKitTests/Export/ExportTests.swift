// Campaign exports on hand-built prospects and a hand-built score run: each channel's rows,
// every skip reason, hashes against Python's hashlib, the frequency cap, suppression, history,
// and the written file's mode and atomicity.
import Foundation
import GRDB
import XCTest
@testable import ListwiseKit

final class ExportTests: TemporaryFolderTestCase {
    /// Nine homes scored 0.9, 0.8, ... 0.1 by a hand-made run (id 1, territory "town"); H4 is on the market.
    private func townDatabase() throws -> AppDatabase {
        let db = try makeDatabase()
        _ = try db.importFile(try file("properties.csv", """
            property_id,address,city,state,zip
            H1,123 North Main Street,Oakland,CA,94610
            H2,45 Park Avenue Apartment 4B,Oakland,CA,94611-1234
            H3,7 Elm Road,Oakland,CA,94612
            H4,9 Pine Ct,Oakland,CA,94613
            H5,11 Lake Dr,Oakland,CA,94614
            H6,13 Hill Ln,Oakland,CA,94615
            H7,Main Street,Oakland,CA,94616
            H8,15 Oak Way,Oakland,CA,94617
            H9,17 Bay View Terrace,Oakland,CA,94618

            """), kind: .properties)
        _ = try db.importFile(try file("prospects.csv", """
            prospect_id,property_id,first_name,last_name,mailing_address,mailing_city,mailing_state,mailing_zip,email,phone,do_not_mail,do_not_email,do_not_call
            C1,H1,John,Smith,,,,, John.Smith@Example.com ,(415) 555-2671,N,N,N
            C2,H1,Mary,Smith,,,,,mary@example.com,,N,N,N
            C3,H2,,,,,,,not-an-email,,N,N,N
            C4,H3,Ann,Lee,500 South West Boulevard Suite 200,Denver,CO,80202-1234,ann@example.com,,N,N,N
            C5,H4,Otto,Market,,,,,otto@example.com,,N,N,N
            C6,H6,Dee,Nott,,,,,dee@example.com,415-555-0000,Y,Y,Y
            C7,H7,Jon,Smyth,,,,,JOHN.SMITH@example.com,,N,N,N
            C8,H8,Bob,Jones,,,,,bob@example.com,,N,N,N
            C9,H9,Sean,O'Brien,,,,,,415.555.9999,N,N,N

            """), kind: .prospects)
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO territories VALUES ('town', 'zips', '{}', '2026-01-01');
                INSERT INTO score_runs (id, model_file, model_fingerprint, territory, as_of, horizon_days, started_at, finished_at, rows, on_market)
                VALUES (1, 'm.json', 'f', 'town', '2025-12-31', 365, 't', 't', 9, 1);
                """)
            let ranks = [1, 2, 3, nil, 4, 5, 6, 7, 8]
            for (index, rank) in ranks.enumerated() {
                try db.execute(sql: """
                    INSERT INTO scores (run_id, property_id, probability, rank, percentile, tier, on_market, reason1, reason2, reason3)
                    VALUES (1, ?, ?, ?, NULL, NULL, ?, 'owned 11 years', 'owner aged 71', NULL)
                    """, arguments: ["H\(index + 1)", 0.9 - 0.1 * Double(index), rank, rank == nil])
            }
        }
        return db
    }

    private func rows(_ export: PreparedExport) -> [[String: String]] {
        let text = String(decoding: export.content, as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        let header = Self.fields(lines[0])
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, Self.fields($0))) }
    }

    /// Splits a CSV line of this test's data (quoted fields hold no quotes or line ends).
    private static func fields(_ line: String) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        for character in line {
            if character == "\"" { quoted.toggle() } else if character == ",", !quoted { fields.append(current); current = "" } else { current.append(character) }
        }
        return fields + [current]
    }

    func testMailMergesHouseholdsStandardisesAddressesAndCountsEverySkip() async throws {
        let db = try townDatabase()
        _ = try db.suppress(file: try file("optout.txt", "BOB@example.com\n"))
        let export = try await db.prepareExport(ExportSettings(campaign: "spring", channel: .mail, selection: .top(100), territory: "town"))
        let list = rows(export)
        XCTAssertEqual(list.map { $0["prospect_ids"]! }, ["C1;C2", "C3", "C4", "C9"], "best home first, one row a household")
        XCTAssertEqual(list[0]["name"], "John & Mary Smith")
        XCTAssertEqual([list[0]["address1"], list[0]["address2"], list[0]["city"], list[0]["state"], list[0]["zip"]],
                       ["123 N MAIN ST", "", "OAKLAND", "CA", "94610"])
        XCTAssertEqual(list[1]["name"], "Current Resident")
        XCTAssertEqual([list[1]["address1"], list[1]["address2"], list[1]["zip"]], ["45 PARK AVE", "APT 4B", "94611-1234"], "ZIP+4 when known")
        // The absentee owner gets her mailing address, not the home's.
        XCTAssertEqual([list[2]["name"], list[2]["address1"], list[2]["address2"], list[2]["city"], list[2]["state"], list[2]["zip"]],
                       ["Ann Lee", "500 S WEST BLVD", "STE 200", "DENVER", "CO", "80202-1234"])
        XCTAssertEqual(list[2]["property_address"], "7 Elm Road")
        XCTAssertEqual(list[0]["probability"], "0.900000")
        XCTAssertEqual([list[0]["reason1"], list[0]["reason2"], list[0]["reason3"]], ["owned 11 years", "owner aged 71", ""])
        XCTAssertEqual(export.summary.skipped, ["on_market": 1, "no_prospect": 1, "suppressed": 1, "do_not_mail": 1, "no_address": 1,
                                                "duplicate_household": 1])
        XCTAssertEqual(export.summary.selectedHomes, 8)
        XCTAssertEqual(export.summary.selectedProspects, 9)
        XCTAssertEqual(export.summary.exportedRows, 4)
        XCTAssertEqual(export.prospectIDs, ["C1", "C2", "C3", "C4", "C9"])
    }

    func testEmailKeepsValidAddressesOnceAndSkipsTheRest() async throws {
        let db = try townDatabase()
        _ = try db.suppress(file: try file("optout.csv", "email\nbob@example.com\n"))
        let export = try await db.prepareExport(ExportSettings(campaign: "news", channel: .email, selection: .top(100), territory: "town"))
        let list = rows(export)
        XCTAssertEqual(list.map { $0["Email Address"]! }, ["john.smith@example.com", "mary@example.com", "ann@example.com"])
        XCTAssertEqual([list[0]["First Name"], list[0]["Last Name"], list[0]["Property Address"]], ["John", "Smith", "123 North Main Street"])
        XCTAssertEqual(export.summary.skipped, ["on_market": 1, "no_prospect": 1, "suppressed": 1, "invalid_email": 1, "do_not_email": 1,
                                                "duplicate_email": 1, "no_email": 1])
    }

    func testAdsFilesHashWhatTheyNormaliseAsPythonDoes() async throws {
        // Expected values: Tests/ListwiseKitTests/Export/Fixtures/reference_hashes.py (hashlib).
        let john = "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a"
        let smith = "6627835f988e2c5e50533d491163072d3f4f41f5c8b04630150debb3722ca2dd"
        let email = "8e621e3d0368631d263d07a351fa8d34fba0d17c15fbcdec11a5f58008d022a0"
        let db = try townDatabase()
        var settings = ExportSettings(campaign: "ads", channel: .ads, selection: .top(1), territory: "town")
        let meta = try await db.prepareExport(settings)
        XCTAssertEqual(rows(meta).first, [
            "email": email, "phone": "758fbf68945f21c416814c539ab578876c8d98fb69e6da692def92cd52417fe0", "fn": john, "ln": smith,
            "zip": "93e1ede1502b2243a93fc318905d4e39dbace244ac14e98d8ee243ac1e87e770",
            "ct": "3ac14fcfc2867544dcc68a7ffba96759581269395bd34d9bd5c3e5993d499548",
            "st": "6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126",
            "country": "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"])
        XCTAssertTrue(meta.summary.notice?.contains("special ad category") ?? false)
        settings.adsFormat = .google
        let google = try await db.prepareExport(settings)
        XCTAssertEqual(rows(google).first, [
            "Email": email, "Phone": "cb6880e416769253645cb9c6b8989154bf66a56a77fc14c81fb1019663cbb928", "First Name": john,
            "Last Name": smith, "Country": "US", "Zip": "94610"])
        // Names lose their punctuation before hashing; a home without email or phone is skipped.
        settings.selection = .top(100)
        let all = try await db.prepareExport(settings)
        XCTAssertTrue(rows(all).contains { $0["Last Name"] == "b4cb6cb33fe4b865868de825023a1e2790dc12ac01ecc8d7c5afe8254071c8ba" }, "O'Brien → obrien")
        XCTAssertEqual(all.summary.skipped["no_email_or_phone"], 2, "C3: no phone, invalid email; C6: do not email, do not call")
        XCTAssertEqual(all.summary.skipped["duplicate_contact"], 1, "C7 has C1's email")
    }

    func testFrequencyCapSkipsProspectsOfAnyRecentCampaign() async throws {
        let db = try townDatabase()
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        var first = ExportSettings(campaign: "spring", channel: .mail, selection: .top(2), territory: "town")
        first.now = start
        try db.recordExport(try await db.prepareExport(first))   // C1, C2, C3
        var second = ExportSettings(campaign: "summer", channel: .email, selection: .top(100), territory: "town")
        second.now = start.addingTimeInterval(10 * 86_400)
        second.excludeContactedWithinDays = 30
        let capped = try await db.prepareExport(second)
        XCTAssertEqual(capped.summary.skipped["recently_contacted"], 3)
        XCTAssertEqual(rows(capped).map { $0["Email Address"]! }, ["ann@example.com", "john.smith@example.com", "bob@example.com"],
                       "C7's email is no duplicate once C1 is capped")
        second.excludeContactedWithinDays = 9
        let later = try await db.prepareExport(second)
        XCTAssertNil(later.summary.skipped["recently_contacted"], "the spring export is 10 days old")
        try db.recordExport(capped)
        let campaigns = try db.campaigns()
        XCTAssertEqual(campaigns.map(\.name), ["summer", "spring"])
        XCTAssertEqual(campaigns.map(\.prospects), [3, 3])
        XCTAssertEqual(campaigns.map(\.channels), [["email"], ["mail"]])
    }

    func testReadingTheRunInTwoHalvesGivesTheSameList() async throws {
        let db = try townDatabase()
        for channel in ExportChannel.allCases {
            var settings = ExportSettings(campaign: "c", channel: channel, selection: .top(6), territory: "town")
            let whole = try await db.prepareExport(settings)
            settings.parallelFromRows = 2
            let halves = try await db.prepareExport(settings)
            XCTAssertEqual(halves.content, whole.content, "\(channel)")
            XCTAssertEqual(halves.summary, whole.summary, "\(channel)")
            XCTAssertEqual(halves.prospectIDs, whole.prospectIDs, "\(channel)")
        }
    }

    func testIncludeOnMarketAndTopPercent() async throws {
        let db = try townDatabase()
        var settings = ExportSettings(campaign: "c", channel: .email, selection: .top(4), territory: "town")
        settings.includeOnMarket = true
        let withOnMarket = try await db.prepareExport(settings)
        XCTAssertTrue(rows(withOnMarket).contains { $0["Email Address"] == "otto@example.com" })
        settings.includeOnMarket = false
        settings.selection = .topPercent(25)   // 25 % of 8 ranked homes: H1, H2
        let export = try await db.prepareExport(settings)
        XCTAssertEqual(export.summary.selectedHomes, 2)
        XCTAssertNil(export.summary.skipped["on_market"], "H4 scores below the selection")
        settings.runID = 1
        settings.territory = "elsewhere"
        do {
            _ = try await db.prepareExport(settings)
            XCTFail("an export of another territory's run was prepared")
        } catch {
            XCTAssertEqual((error as? ListwiseError)?.exitCode, 2)
        }
    }

    func testWrittenListIsPrivateAndAFailedExportRecordsNothing() async throws {
        let db = try townDatabase()
        let export = try await db.prepareExport(ExportSettings(campaign: "spring", channel: .mail, selection: .top(100), territory: "town"))
        let out = path("mail.csv")
        try db.writeExport(export, to: out)
        let mode = try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), export.content)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }, [])
        XCTAssertEqual(try db.campaigns().first?.prospects, 6)
        // Into a folder that does not exist: an error, no history, no file.
        let other = try await db.prepareExport(ExportSettings(campaign: "broken", channel: .mail, selection: .top(100), territory: "town"))
        XCTAssertThrowsError(try db.writeExport(other, to: path("missing/mail.csv")))
        // The rename fails (the target is a folder): the history insert is rolled back, the temporary file removed.
        try FileManager.default.createDirectory(atPath: path("taken.csv"), withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: path("taken.csv/inside"), withIntermediateDirectories: false)
        XCTAssertThrowsError(try db.writeExport(other, to: path("taken.csv")))
        XCTAssertEqual(try db.campaigns().map(\.name), ["spring"])
        XCTAssertEqual(try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM contact_history") }, 6)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }, [])
    }

    func testSuppressReadsListsAndRefusesABadEntryWhole() async throws {
        let db = try townDatabase()
        let summary = try db.suppress(file: try file("list.txt", """
            Someone@Example.COM
            (415) 555-2671
            "45 Park Avenue Apt 4B, Oakland, CA 94611"
            someone@example.com

            """))
        XCTAssertEqual([summary.emails, summary.phones, summary.addresses, summary.alreadyListed], [1, 1, 1, 1])
        let export = try await db.prepareExport(ExportSettings(campaign: "c", channel: .mail, selection: .top(2), territory: "town"))
        XCTAssertEqual(export.summary.skipped["suppressed"], 2, "C1 by phone, C3 by address")
        XCTAssertEqual(rows(export).map { $0["prospect_ids"]! }, ["C2", "C4"], "two rows: the next home fills the place of the suppressed one")
        let columns = try db.suppress(file: try file("columns.csv", "address,zip,email\n7 Elm Rd,94612,\n,,x@example.com\n"))
        XCTAssertEqual([columns.addresses, columns.emails], [1, 1])
        XCTAssertThrowsError(try db.suppress(file: try file("bad.csv", "email\nok@example.com\nnot an email\n"))) { error in
            XCTAssertEqual((error as? ListwiseError)?.exitCode, 2)
            XCTAssertTrue("\(error)".contains("line 3, column 1"), "\(error)")
        }
        XCTAssertEqual(try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM suppressions WHERE value = 'ok@example.com'") }, 0,
                       "all or nothing")
    }

    func testPublication28Standardisation() {
        let cases: [(String, String, String)] = [
            ("123 North Main Street", "123 N MAIN ST", ""),
            ("123 Main St. NW", "123 MAIN ST NW", ""),
            ("500 South West Boulevard Suite 200", "500 S WEST BLVD", "STE 200"),
            ("12 North Street", "12 NORTH ST", ""),
            ("100 Park Avenue", "100 PARK AVE", ""),
            ("77 Sunset Hwy #4", "77 SUNSET HWY", "# 4"),
            ("9 Elm Ct., Apartment 12-C", "9 ELM CT", "APT 12-C"),
            ("P.O. Box 442", "PO BOX 442", ""),
            ("31 east oak terrace   unit 3", "31 E OAK TER", "UNIT 3"),
            ("8 Old Mill Crossing", "8 OLD MILL XING", ""),
            ("12 Old Key Road", "12 OLD KEY RD", ""),
            ("5 Harbor Way Rear", "5 HARBOR WAY", "REAR"),
        ]
        for (raw, line1, line2) in cases {
            XCTAssertEqual(AddressStandardizer.standardize(raw), StandardAddress(line1: line1, line2: line2), raw)
        }
    }

    func testHouseholdNamesAndContactNormalisation() {
        XCTAssertEqual(ExportBuilder.householdName([("John", "Smith"), ("Mary", "Smith")]), "John & Mary Smith")
        XCTAssertEqual(ExportBuilder.householdName([("John", "Smith"), ("Mary", "Smith"), ("Ann", "Smith")]), "John, Mary & Ann Smith")
        XCTAssertEqual(ExportBuilder.householdName([("John", "Smith"), ("Mary", "Jones")]), "John Smith & Mary Jones")
        XCTAssertEqual(ExportBuilder.householdName([("", ""), ("", " ")]), "Current Resident")
        XCTAssertEqual(ExportBuilder.householdName([("", "Oakview Holdings LLC")]), "Oakview Holdings LLC")
        XCTAssertEqual(ContactNormalization.validEmail("  A.B+tag@Mail.Example.org "), "a.b+tag@mail.example.org")
        for bad in ["a@b", "a..b@example.com", "a@-example.com", "a b@example.com", "@example.com", "a@example.c0m", "a@@example.com"] {
            XCTAssertNil(ContactNormalization.validEmail(bad), bad)
        }
        XCTAssertEqual(ContactNormalization.phoneDigits("+1 (415) 555-2671"), "14155552671")
        XCTAssertEqual(ContactNormalization.phoneDigits("415.555.2671"), "14155552671")
        XCTAssertNil(ContactNormalization.phoneDigits("555-2671"))
        XCTAssertNil(ContactNormalization.phoneDigits("24155552671"))
    }

    func testTopNMeansNRowsThatPassTheRulesGoingAsDeepAsNeeded() async throws {
        let db = try importedCounty(properties: 1200, seed: 31)
        let model = try LikelyToSellModel.load(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Models/sample.json").path)
        _ = try db.addTerritory(name: "all", definition: .zips(try db.read { try String.fetchAll($0, sql: "SELECT DISTINCT zip FROM properties") }))
        _ = try db.score(model: model, settings: ScoreSettings(asOfDay: DayNumber.parse("2025-12-31")!, territory: "all", modelFile: "sample.json"))
        var first = ExportSettings(campaign: "spring", channel: .mail, selection: .top(150), territory: "all")
        first.now = Date(timeIntervalSince1970: 1_780_000_000)
        let spring = try await db.prepareExport(first)
        XCTAssertEqual(spring.summary.exportedRows, 150)
        try db.writeExport(spring, to: path("spring.csv"))

        // A second campaign a week later with a 30-day cap: 150 new rows, none of spring's prospects.
        var second = ExportSettings(campaign: "summer", channel: .mail, selection: .top(150), territory: "all")
        second.now = first.now.addingTimeInterval(7 * 86_400)
        second.excludeContactedWithinDays = 30
        let summer = try await db.prepareExport(second)
        XCTAssertEqual(summer.summary.exportedRows, 150)
        XCTAssertEqual(rows(summer).count, 150)
        XCTAssertTrue(Set(summer.prospectIDs).isDisjoint(with: spring.prospectIDs))
        XCTAssertEqual(summer.summary.skipped["recently_contacted"], spring.summary.exportedProspects)
        let deepest = try XCTUnwrap(summer.summary.deepestRank)
        XCTAssertGreaterThan(deepest, 300, "went past spring's homes")
        XCTAssertEqual(summer.summary.deepestProbability!, try db.read { db in
            try Double.fetchOne(db, sql: "SELECT max(probability) FROM scores WHERE run_id = 1 AND rank = ?", arguments: [deepest])!
        }, accuracy: 1e-12)
        XCTAssertEqual(summer.summary.selectedProspects, summer.summary.exportedProspects + summer.summary.skipped.filter { $0.key != "no_prospect" && $0.key != "duplicate_household" }.values.reduce(0, +),
                       "every selected prospect is exported or counted as skipped (merged household members are both)")

        // Many small windows give the same list as one; with on-market homes and by email too.
        for channel in [ExportChannel.mail, .email] {
            for includeOnMarket in [false, true] {
                var settings = second
                settings.channel = channel
                settings.includeOnMarket = includeOnMarket
                let once = try await db.prepareExport(settings)
                settings.rankWindowCap = 7
                let windows = try await db.prepareExport(settings)
                XCTAssertEqual(windows.content, once.content, "\(channel) \(includeOnMarket)")
                XCTAssertEqual(windows.summary, once.summary, "\(channel) \(includeOnMarket)")
                XCTAssertEqual(once.summary.exportedRows, 150)
            }
        }

        // More rows than the run can give: every row that passes, as many as selecting every home.
        var everything = second
        everything.selection = .top(1_000_000)
        var byProbability = second
        byProbability.selection = .minProbability(0)
        let all = try await db.prepareExport(everything), reference = try await db.prepareExport(byProbability)
        XCTAssertLessThan(all.summary.exportedRows, 1_000_000)
        XCTAssertEqual(all.content, reference.content)
    }
}
