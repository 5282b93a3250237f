// SPEC §1 import rules, each checked on a small hand-built file against a real database.
import Foundation
import GRDB
import XCTest
@testable import ListwiseKit

final class ImportTests: TemporaryFolderTestCase {
    func testPropertiesAreStoredWithTypedValues() throws {
        let db = try makeDatabase()
        let csv = """
            property_id,address,city,state,zip,latitude,longitude,property_type,bedrooms,bathrooms,living_sqft,lot_sqft,year_built,assessed_value,owner_occupied
            06001-1,12 Oak Street,Oakland,CA,94610-1234,37.8,-122.25,condo,2,1.5,980,,1962,455000,yes
            06001-2,14 Oak Street,Oakland,CA,946119876,,,SFR,,,,,,,N

            """
        let summary = try db.importFile(try file("properties.csv", csv))
        XCTAssertEqual(summary.kind, .properties)
        XCTAssertEqual([summary.rows, summary.inserted, summary.updated, summary.rejected], [2, 2, 0, 0])
        let stored = try db.read { try PropertyRecord.order(PropertyRecord.Columns.propertyID).fetchAll($0) }
        XCTAssertEqual(stored[0], PropertyRecord(
            propertyID: "06001-1", address: "12 Oak Street", city: "Oakland", state: "CA", zip: "94610", zip4: "1234",
            latitude: 37.8, longitude: -122.25, propertyType: "CONDO", bedrooms: 2, bathrooms: 1.5, livingSqft: 980,
            lotSqft: nil, yearBuilt: 1962, assessedValue: 455_000, ownerOccupied: true))
        XCTAssertEqual(stored[1].zip, "94611")
        XCTAssertEqual(stored[1].zip4, "9876")
        XCTAssertNil(stored[1].latitude)
        XCTAssertEqual(stored[1].ownerOccupied, false)
        let runs = try db.importRuns()
        XCTAssertEqual(runs.count, 1)
        XCTAssertEqual(runs[0].sha256.count, 64)
        XCTAssertEqual(runs[0].inserted, 2)
    }

    func testRESOAliasesAndColumnNamesAreCaseInsensitive() throws {
        let db = try makeDatabase()
        let csv = """
            PARCELNUMBER,UnparsedAddress,city,StateOrProvince,postalcode,LivingArea,BedroomsTotal,Vendor_Notes
            A1,5 Elm Rd,Berkeley,CA,94703,1200,3,hello

            """
        let summary = try db.importFile(try file("props.csv", csv), kind: .properties)
        XCTAssertEqual(summary.inserted, 1)
        XCTAssertEqual(summary.unknownColumns, ["Vendor_Notes"])
        let stored = try db.read { try PropertyRecord.fetchOne($0) }
        XCTAssertEqual(stored?.propertyID, "A1")
        XCTAssertEqual(stored?.livingSqft, 1200)
        XCTAssertEqual(stored?.bedrooms, 3)
    }

    func testMappingFileInYAMLAndJSON() throws {
        let csv = """
            APN,Situs,Town,St,Zip Code
            M1,9 Pine Ct,Alameda,CA,94501

            """
        let input = try file("vendor.csv", csv)
        let yaml = try file("map.yaml", "property_id: APN\naddress: Situs\ncity: town\nstate: St\nzip: Zip Code\n")
        let json = try file("map.json", #"{"property_id": "APN", "address": "Situs", "city": "Town", "state": "St", "zip": "Zip Code"}"#)
        for mappingFile in [yaml, json] {
            let db = try makeDatabase(UUID().uuidString + ".db")
            let options = ImportOptions(mapping: try ColumnMapping.load(path: mappingFile))
            let summary = try db.importFile(input, kind: .properties, options: options)
            XCTAssertEqual(summary.inserted, 1, mappingFile)
            XCTAssertEqual(try db.read { try PropertyRecord.fetchOne($0) }?.city, "Alameda")
        }
        // A mapping to a column the file does not have, or for a column listwise does not know, is refused.
        let db = try makeDatabase()
        let missing = ImportOptions(mapping: ColumnMapping(["property_id": "ParcelNo"]))
        XCTAssertThrowsError(try db.importFile(input, kind: .properties, options: missing)) { error in
            XCTAssertEqual((error as? ListwiseError)?.exitCode, 2)
            XCTAssertTrue("\(error)".contains("ParcelNo"), "\(error)")
        }
        let unknown = try file("bad-map.yaml", "parcel: APN\n")
        XCTAssertThrowsError(try ColumnMapping.load(path: unknown)) { error in
            XCTAssertTrue("\(error)".contains("'parcel' is not a listwise column"), "\(error)")
        }
        let broken = try file("broken.json", "{\"property_id\": ")
        XCTAssertThrowsError(try ColumnMapping.load(path: broken))
    }

    func testBOMCRLFAndQuotedCommasQuotesAndNewlines() throws {
        let db = try makeDatabase()
        let text = "\u{FEFF}property_id,address,city,state,zip\r\n"
            + "Q1,\"10 Main St, Apt 2\",Oakland,CA,94610\r\n"
            + "Q2,\"The \"\"Big\"\" House\nRear unit\",Oakland,CA,94610\r\n"
            + "Q3,3 Main St,Oakland,CA,9461\r\n"        // bad zip on physical line 5
            + "Q4,4 Main St,Oakland,CA,94610"            // no final line end
        let input = try file("properties.csv", text)
        let summary = try db.importFile(input)
        XCTAssertEqual([summary.rows, summary.inserted, summary.rejected], [4, 3, 1])
        let addresses = try db.read { try String.fetchAll($0, sql: "SELECT address FROM properties ORDER BY property_id") }
        XCTAssertEqual(addresses, ["10 Main St, Apt 2", "The \"Big\" House\nRear unit", "4 Main St"])
        let rejects = try rejectsRows(XCTUnwrap(summary.rejectsFile))
        XCTAssertEqual(rejects, ["file,line,column,value,reason", "\(input),5,zip,9461,bad_zip"])
    }

    func testEveryKindOfBadValueIsRejectedWithLineColumnAndReason() throws {
        let db = try makeDatabase()
        let csv = """
            property_id,address,city,state,zip,latitude,property_type,bedrooms,year_built,owner_occupied
            G1,1 A St,Oakland,CA,94610,37.8,SFR,3,1990,Y
            B1,,Oakland,CA,94610,,,,,
            B2,2 A St,Oakland,CA,94610,north,,,,
            B3,3 A St,Oakland,CA,94610,,,,,maybe
            B4,4 A St,Oakland,CA,ABCDE,,,,,
            B5,5 A St,Oakland,CA,94610,,CASTLE,,,
            B6,6 A St,Oakland,CA,94610,,,2.5.1,,
            B7,7 A St,Oakland,CA,94610,95.0,,,,
            B8,8 A St,Oakland,CA,94610,,,,19x0,
            B9,9 A St,Oakland,CA,94610,,,,1990
            G2,10 A St,Oakland,CA,94610,,,,,

            """
        let input = try file("properties.csv", csv)
        let summary = try db.importFile(input)
        XCTAssertEqual([summary.rows, summary.inserted, summary.rejected], [11, 2, 9])
        XCTAssertEqual(summary.rejectedByReason, ["missing_required": 1, "bad_number": 4, "bad_bool": 1, "bad_zip": 1,
                                                  "bad_enum": 1, "malformed_record": 1])
        let rejects = try rejectsRows(XCTUnwrap(summary.rejectsFile))
        XCTAssertEqual(Array(rejects.dropFirst()), [
            "\(input),3,address,,missing_required",
            "\(input),4,latitude,north,bad_number",
            "\(input),5,owner_occupied,maybe,bad_bool",
            "\(input),6,zip,ABCDE,bad_zip",
            "\(input),7,property_type,CASTLE,bad_enum",
            "\(input),8,bedrooms,2.5.1,bad_number",
            "\(input),9,latitude,95.0,bad_number",
            "\(input),10,year_built,19x0,bad_number",
            "\(input),11,,9 fields where the header has 10,malformed_record",
        ])
        XCTAssertEqual(try db.read { try String.fetchAll($0, sql: "SELECT property_id FROM properties ORDER BY 1") }, ["G1", "G2"])
    }

    func testBadDatesAndEnumsInEventsAndUnknownProperty() throws {
        let db = try makeDatabase()
        try importBaseProperties(db)
        let csv = """
            property_id,event_type,event_date,amount,rate
            P1,sale,2020-02-29,500000,
            P1,MORTGAGE,2020-03-01,400000,3.25
            P1,SALE,2021-02-29,1,
            P1,SALE,2021/03/01,1,
            P1,AUCTION,2021-03-01,1,
            P9,SALE,2021-03-01,1,
            P2,LISTING,2021-03-01,-5,
            ,LISTING,2021-03-01,,

            """
        let input = try file("events.csv", csv)
        let summary = try db.importFile(input)
        XCTAssertEqual([summary.inserted, summary.rejected], [2, 6])
        let rejects = try rejectsRows(XCTUnwrap(summary.rejectsFile))
        XCTAssertEqual(Array(rejects.dropFirst()), [
            "\(input),4,event_date,2021-02-29,bad_date",
            "\(input),5,event_date,2021/03/01,bad_date",
            "\(input),6,event_type,AUCTION,bad_enum",
            "\(input),7,property_id,P9,unknown_property_id",
            "\(input),8,amount,-5,bad_number",
            "\(input),9,property_id,,missing_required",
        ])
        let events = try db.read { try EventRecord.order(EventRecord.Columns.eventDate).fetchAll($0) }
        XCTAssertEqual(events, [
            EventRecord(propertyID: "P1", eventDate: "2020-02-29", eventType: .sale, amountDollars: 500_000),
            EventRecord(propertyID: "P1", eventDate: "2020-03-01", eventType: .mortgage, amountDollars: 400_000, ratePercent: 3.25),
        ])
    }

    func testProspectsAndOwnersNeedAKnownProperty() throws {
        let db = try makeDatabase()
        try importBaseProperties(db)
        let prospects = """
            prospect_id,property_id,first_name,last_name,mailing_zip,do_not_mail,do_not_email
            C1,P1,Ann,Lee,94610,Y,
            C2,NOPE,Bob,Lee,,,
            C3,P2,,,123,,

            """
        let summary = try db.importFile(try file("prospects.csv", prospects))
        XCTAssertEqual(summary.rejectedByReason, ["unknown_property_id": 1, "bad_zip": 1])
        let stored = try db.read { try ProspectRecord.fetchAll($0) }
        XCTAssertEqual(stored.count, 1)
        XCTAssertEqual(stored[0].doNotMail, true)
        XCTAssertEqual(stored[0].doNotEmail, false)  // empty means the default, false
        XCTAssertEqual(stored[0].doNotCall, false)   // absent column: the default

        let owners = """
            property_id,owner_since,owner_birth_year,absentee,corporate
            P1,2001-05-01,1960,N,N
            P1,2015-07-15,,Y,N
            P3,2015-07-15,,Y,N
            P2,2015-13-01,1970,N,N

            """
        let ownerSummary = try db.importFile(try file("owners.csv", owners))
        XCTAssertEqual(ownerSummary.inserted, 2)
        XCTAssertEqual(ownerSummary.rejectedByReason, ["unknown_property_id": 1, "bad_date": 1])
        let history = try db.read { try OwnerRecord.order(OwnerRecord.Columns.ownerSince).fetchAll($0) }
        XCTAssertEqual(history, [
            OwnerRecord(propertyID: "P1", ownerSince: "2001-05-01", ownerBirthYear: 1960, absentee: false, corporate: false),
            OwnerRecord(propertyID: "P1", ownerSince: "2015-07-15", ownerBirthYear: nil, absentee: true, corporate: false),
        ])
    }

    func testRepeatedKeyInOneFileLastRowWins() throws {
        let db = try makeDatabase()
        let csv = """
            property_id,address,city,state,zip,bedrooms
            D1,1 First St,Oakland,CA,94610,2
            D2,2 First St,Oakland,CA,94610,2
            D1,1 First Street,Oakland,CA,94610,3

            """
        let summary = try db.importFile(try file("properties.csv", csv))
        XCTAssertEqual([summary.rows, summary.inserted, summary.updated, summary.unchanged], [3, 2, 1, 0])
        let d1 = try db.read { try PropertyRecord.fetchOne($0, key: "D1") }
        XCTAssertEqual(d1?.address, "1 First Street")
        XCTAssertEqual(d1?.bedrooms, 3)
    }

    func testReimportIsIdempotentAndUpdatesOnlyChangedRows() throws {
        let db = try makeDatabase()
        try importBaseProperties(db)
        let events = """
            property_id,event_type,event_date,amount,rate
            P1,SALE,2020-01-10,500000,
            P1,VALUATION,2021-01-10,,
            P2,MORTGAGE,2020-01-10,300000,2.875

            """
        let input = try file("events.csv", events)
        let first = try db.importFile(input)
        XCTAssertEqual([first.inserted, first.unchanged], [3, 0])
        let second = try db.importFile(input)
        XCTAssertEqual([second.rows, second.inserted, second.updated, second.unchanged], [3, 0, 0, 3])
        XCTAssertEqual(try db.dataCounts().events, 3)

        let properties = """
            property_id,address,city,state,zip,latitude
            P1,1 Main St,Oakland,CA,94610,37.5
            P2,2 Oak Ave,Oakland,CA,94611,37.6

            """
        let withLatitude = try db.importFile(try file("p2.csv", properties), kind: .properties)
        XCTAssertEqual([withLatitude.inserted, withLatitude.updated, withLatitude.unchanged], [0, 2, 0])
        // The base file has no latitude column: re-importing it changes nothing and keeps latitude.
        let base = try db.importFile(path("base-properties.csv"), kind: .properties)
        XCTAssertEqual([base.inserted, base.updated, base.unchanged], [0, 0, 2])
        XCTAssertEqual(try db.read { try PropertyRecord.fetchOne($0, key: "P1") }?.latitude, 37.5)
        XCTAssertEqual(try db.dataCounts().properties, 2)
    }

    func testRefusedFilesLeaveTheDatabaseUnchanged() throws {
        let db = try makeDatabase()
        try importBaseProperties(db)
        let before = try db.dataCounts()
        let runsBefore = try db.importRuns().count
        let cases: [(String, Data, String)] = [
            ("empty.csv", Data(), "empty file"),
            ("header-only.csv", Data("property_id,address,city,state,zip\n".utf8), "no data rows"),
            ("missing-zip.csv", Data("property_id,address,city,state\nX1,1 A St,Oakland,CA\n".utf8),
             "missing required column 'zip' or 'PostalCode'"),
            ("binary.csv", Data([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x41, 0x42]), "not a CSV file"),
            ("latin1.csv", Data([0x70, 0x72, 0xF6, 0x70, 0x0A, 0x31, 0x0A]), "not a CSV file"),
            ("unterminated.csv", Data("property_id,address,city,state,zip\nX1,1 A St,Oakland,CA,94610\nX2,\"2 A St,Oakland,CA,94610\nX3,3 A St,Oakland,CA,94610\n".utf8),
             ":3: a quoted field"),
        ]
        for (name, bytes, message) in cases {
            let input = try file(name, bytes: bytes)
            XCTAssertThrowsError(try db.importFile(input, kind: .properties), name) { error in
                XCTAssertEqual((error as? ListwiseError)?.exitCode, 2, name)
                XCTAssertTrue("\(error)".contains(message), "\(name): \(error)")
                XCTAssertTrue("\(error)".hasPrefix(input), "\(name): \(error)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: input + ".rejects.csv"), name)
        }
        XCTAssertEqual(try db.dataCounts(), before)
        XCTAssertEqual(try db.importRuns().count, runsBefore)
    }

    func testBadUTF8InADataRowIsRejected() throws {
        let db = try makeDatabase()
        var bytes = Data("property_id,address,city,state,zip\nE1,".utf8)
        bytes.append(contentsOf: [0x43, 0xE9, 0x64])  // "Céd" in Latin-1
        bytes.append(Data(" St,Oakland,CA,94610\nE2,2 St,Oakland,CA,94610\n".utf8))
        let summary = try db.importFile(try file("properties.csv", bytes: bytes))
        XCTAssertEqual(summary.rejectedByReason, ["bad_encoding": 1])
        XCTAssertEqual(summary.inserted, 1)
    }

    func testUnknownPropertiesAreFoundInUngroupedFiles() throws {
        // The importer remembers the last property it found; interleaved ids must still be checked.
        let db = try makeDatabase()
        try importBaseProperties(db)
        let csv = "property_id,event_type,event_date\nP1,SALE,2020-01-01\nNOPE,SALE,2020-01-01\nP1,SALE,2020-01-02\n"
            + "NOPE,SALE,2020-01-02\nP2,SALE,2020-01-01\nP1,SALE,2020-01-03\n"
        let summary = try db.importFile(try file("events.csv", csv))
        XCTAssertEqual([summary.inserted, summary.rejected], [4, 2])
        XCTAssertEqual(summary.rejectedByReason, ["unknown_property_id": 2])
    }

    func testKindIsDetectedFromNameOrHeader() {
        XCTAssertEqual(ImportKind.detect(fileName: "2024_events.csv", header: []), .events)
        XCTAssertEqual(ImportKind.detect(fileName: "Owner.CSV", header: []), .owners)
        XCTAssertEqual(ImportKind.detect(fileName: "drop.csv", header: ["prospect_id", "property_id"]), .prospects)
        XCTAssertEqual(ImportKind.detect(fileName: "drop.csv", header: ["ParcelNumber", "UnparsedAddress"]), .properties)
        XCTAssertNil(ImportKind.detect(fileName: "drop.csv", header: ["a", "b"]))
    }

    func testRejectsFileIsReplacedOrAppended() throws {
        let db = try makeDatabase()
        let bad = try file("p.csv", "property_id,address,city,state,zip\nR1,1 A St,Oakland,CA,1\n")
        let rejects = path("all.rejects.csv")
        _ = try db.importFile(bad, kind: .properties, options: ImportOptions(rejectsPath: rejects, rejectsMode: .append))
        _ = try db.importFile(bad, kind: .properties, options: ImportOptions(rejectsPath: rejects, rejectsMode: .append))
        XCTAssertEqual(try rejectsRows(rejects).count, 3)  // one header, two rows
        let good = try file("g.csv", "property_id,address,city,state,zip\nR1,1 A St,Oakland,CA,94610\n")
        let summary = try db.importFile(good, kind: .properties, options: ImportOptions(rejectsPath: rejects))
        XCTAssertNil(summary.rejectsFile)
        XCTAssertFalse(FileManager.default.fileExists(atPath: rejects), "a stale rejects file is removed")
    }
}
