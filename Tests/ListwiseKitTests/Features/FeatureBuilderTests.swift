// Point-in-time correctness of the feature builder on a hand-built county of three homes.
import Foundation
import GRDB
import XCTest
@testable import ListwiseKit

final class FeatureBuilderTests: TemporaryFolderTestCase {
    let asOf = DayNumber.parse("2019-12-31")!

    /// H1: owned by A (born 1950) since 2005, sold to B (born 1990, absentee) on 2020-06-01.
    /// H2: listed on 2019-11-01, still on the market at the end of 2019.
    /// H3: built in 2021, no history before then.
    private func county(withFuture: Bool, withOwners: Bool = true) throws -> AppDatabase {
        let db = try makeDatabase(UUID().uuidString + ".db")
        _ = try db.importFile(try file("properties.csv", """
            property_id,address,city,state,zip,year_built,living_sqft,property_type,assessed_value,owner_occupied
            H1,1 A St,Oakland,CA,94610,1960,1500,SFR,900000,N
            H2,2 A St,Oakland,CA,94610,1970,1100,condo,500000,Y
            H3,3 A St,Oakland,CA,94611,2021,2000,SFR,1200000,Y

            """))
        var owners = "property_id,owner_since,owner_birth_year,absentee,corporate\nH1,2005-03-01,1950,N,\nH2,2001-01-01,1960,N,N\n"
        if withFuture { owners += "H1,2020-06-01,1990,Y,N\nH3,2021-05-01,1985,N,N\n" }
        if withOwners { _ = try db.importFile(try file("owners.csv", owners)) }
        var events = """
            property_id,event_type,event_date,amount,rate
            H1,SALE,2005-03-01,300000,
            H1,MORTGAGE,2005-03-01,240000,6.0
            H1,VALUATION,2015-01-01,500000,
            H1,LISTING,2016-01-15,520000,
            H1,DELISTING,2016-05-01,,
            H1,DEFAULT,2018-07-01,,
            H2,SALE,2001-01-01,200000,
            H2,LISTING,2019-11-01,400000,

            """
        if withFuture {
            events += """
                H1,LISTING,2020-03-01,790000,
                H1,SALE,2020-06-01,800000,
                H1,MORTGAGE,2020-06-01,640000,3.0
                H1,VALUATION,2020-07-01,810000,
                H3,SALE,2021-05-01,1100000,
                H2,SALE,2020-01-15,410000,

                """
        }
        events += "H3,VALUATION,2021-06-01,1100000,\n"  // the data reach mid-2021: labels at 2019-12-31 are known
        _ = try db.importFile(try file("events.csv", events))
        return db
    }

    private func row(_ table: FeatureTable, _ id: String) -> [Double]? {
        guard let index = table.propertyIDs.firstIndex(of: id) else { return nil }
        return RawFeature.allCases.map { table.values[$0.rawValue][index] }
    }

    func testFeaturesAtTUseOnlyDataOnOrBeforeT() throws {
        let withFuture = try county(withFuture: true).buildFeatures(FeatureSettings(asOfDays: [asOf]))
        let withoutFuture = try county(withFuture: false).buildFeatures(FeatureSettings(asOfDays: [asOf]))
        let a = try XCTUnwrap(row(withFuture, "H1")), b = try XCTUnwrap(row(withoutFuture, "H1"))
        XCTAssertEqual(a.map { $0.isNaN ? -999 : $0 }, b.map { $0.isNaN ? -999 : $0 }, "events and owners after T change nothing")
        XCTAssertEqual(withFuture.label[withFuture.propertyIDs.firstIndex(of: "H1")!], 1, "listed in 2020: positive")
        XCTAssertEqual(withoutFuture.label[withoutFuture.propertyIDs.firstIndex(of: "H1")!], 0)
    }

    func testHomeSoldAfterTHasThePreviousOwnersAttributes() throws {
        let table = try county(withFuture: true).buildFeatures(FeatureSettings(asOfDays: [asOf]))
        let h1 = try XCTUnwrap(row(table, "H1"))
        func value(_ f: RawFeature) -> Double { h1[f.rawValue] }
        XCTAssertEqual(value(.ownerAge), 69)                      // A: 2019 − 1950, not B (born 1990)
        XCTAssertEqual(value(.absentee), 0)                       // A lived there; B is absentee
        XCTAssertTrue(value(.corporate).isNaN)                    // unknown for A: missing, not 0
        XCTAssertEqual(value(.tenureYears), Double(asOf - DayNumber.parse("2005-03-01")!) / 365.25, accuracy: 1e-12)
        XCTAssertEqual(value(.yearsSinceLoan), Double(asOf - DayNumber.parse("2005-03-01")!) / 365.25, accuracy: 1e-12)
        XCTAssertEqual(value(.rateLockIn), MarketRates.standard.ratePercent(year: 2019, month: 12).rate - 6.0, accuracy: 1e-12)
        XCTAssertEqual(value(.loanToValue), 240_000.0 / 500_000, accuracy: 1e-12)
        XCTAssertEqual(value(.appreciation), 500_000.0 / 300_000, accuracy: 1e-12)
        XCTAssertEqual(value(.monthsSinceDelisting), Double(asOf - DayNumber.parse("2016-05-01")!) / 30.4375, accuracy: 1e-12)
        XCTAssertEqual(value(.defaultLast2Years), 1)
        XCTAssertEqual(value(.priorSales10Years), 0)              // the 2005 sale is more than 10 years back
        XCTAssertEqual(value(.homeAge), 59)
        XCTAssertEqual(value(.propertyType), 0)                   // SFR
        // assessed_value and owner_occupied (today's values) are not features at all.
        XCTAssertFalse(RawFeature.allCases.map(\.name).contains("assessed_value"))
    }

    func testHomesOnTheMarketOrNotYetBuiltAreNotTrainingRows() throws {
        let db = try county(withFuture: true)
        let table = try db.buildFeatures(FeatureSettings(asOfDays: [asOf]))
        XCTAssertEqual(table.propertyIDs, ["H1"], "H2 is on the market, H3 does not exist yet")
        let scoring = try db.buildFeatures(FeatureSettings(asOfDays: [asOf], includeOnMarket: true))
        XCTAssertEqual(scoring.propertyIDs, ["H1", "H2"])
        XCTAssertEqual(scoring.onMarket, [false, true])
        // In 2022 H3 exists (built 2021, bought 2021) and H2 was sold in 2020, so it is off the market.
        let later = try db.buildFeatures(FeatureSettings(asOfDays: [DayNumber.parse("2022-01-01")!]))
        XCTAssertEqual(later.propertyIDs, ["H1", "H2", "H3"])
        XCTAssertTrue(later.label.allSatisfy(\.isNaN), "the data end in 2021: 2022's labels are unknown")
    }

    func testZipListingRateAndSeveralSnapshotsInOnePass() throws {
        let db = try county(withFuture: true)
        let days = [DayNumber.parse("2016-06-01")!, asOf]
        let table = try db.buildFeatures(FeatureSettings(asOfDays: days, includeOnMarket: true))
        // 2016-06-01, zip 94610: H1 listed in Jan 2016 and H2 not: 1 of 2 homes; H3 (94611) does not
        // exist, so the county rate is also 1 of 2 and the relative rate is 1.
        let first = (0..<table.count).filter { table.snapshot[$0] == 0 }
        XCTAssertEqual(first.map { table.propertyIDs[$0] }, ["H1", "H2"])
        XCTAssertEqual(first.map { table.values[RawFeature.zipListingRate36Months.rawValue][$0] }, [1, 1])
        // 2019-12-31: H1's Jan 2016 listing is 47 months back; H2 listed in Nov 2019: 1 of 2 in 94610,
        // 1 of 2 in the county (H3 is not built yet).
        let second = (0..<table.count).filter { table.snapshot[$0] == 1 }
        XCTAssertEqual(second.map { table.values[RawFeature.zipListingRate36Months.rawValue][$0] }, [1, 1])
        // 2022-01-01: 94610 has 2 of 2 listed (H2 in Nov 2019, H1 in Mar 2020); H3 exists in 94611
        // with no listing, so the county has 2 of 3.
        let later = try db.buildFeatures(FeatureSettings(asOfDays: [DayNumber.parse("2022-01-01")!], includeOnMarket: true))
        let rates = Dictionary(uniqueKeysWithValues: zip(later.propertyIDs, later.values[RawFeature.zipListingRate36Months.rawValue]))
        XCTAssertEqual(rates["H1"]!, (2.0 / 2) / (2.0 / 3), accuracy: 1e-12)
        XCTAssertEqual(rates["H3"]!, 0, accuracy: 1e-12)
    }

    func testWithoutOwnerHistoryTenureComesFromTheLastSale() throws {
        let db = try county(withFuture: true, withOwners: false)
        let table = try db.buildFeatures(FeatureSettings(asOfDays: [asOf]))
        XCTAssertFalse(table.hasOwnerHistory)
        let h1 = try XCTUnwrap(row(table, "H1"))
        XCTAssertEqual(h1[RawFeature.tenureYears.rawValue], Double(asOf - DayNumber.parse("2005-03-01")!) / 365.25, accuracy: 1e-12)
        XCTAssertTrue(h1[RawFeature.ownerAge.rawValue].isNaN)
    }

    func testDayNumbersRoundTrip() {
        XCTAssertEqual(DayNumber.parse("1970-01-01"), 0)
        XCTAssertEqual(DayNumber.parse("2000-03-01"), 11017)
        for day in stride(from: -40000, to: 40000, by: 37) {
            let (y, m, d) = DayNumber.civil(day)
            XCTAssertEqual(DayNumber.from(year: y, month: m, day: d), day)
            XCTAssertEqual(DayNumber.parse(DayNumber.iso(day)), day)
        }
        XCTAssertNil(DayNumber.parse("2019-02-29"))
    }
}

/// listwise's features against an independent pandas implementation (Benchmarks/peer_train.py),
/// whose output for a committed 250-home county is committed beside it:
/// `python3 Benchmarks/peer_train.py Tests/ListwiseKitTests/Features/Fixtures/county 2023-06-30 365 1
///  Data/mortgage_rates_30y.csv Tests/ListwiseKitTests/Features/Fixtures/peer_features_2023-06-30.csv`
final class FeatureReferenceTests: TemporaryFolderTestCase {
    func testFeaturesEqualThePandasReference() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        let db = try makeDatabase()
        for kind in ImportKind.importOrder {
            _ = try db.importFile(fixtures.appendingPathComponent("county/\(kind.rawValue).csv").path, kind: kind)
        }
        let table = try db.buildFeatures(FeatureSettings(asOfDays: [DayNumber.parse("2023-06-30")!]))
        let text = try String(contentsOf: fixtures.appendingPathComponent("peer_features_2023-06-30.csv"), encoding: .utf8)
        var lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = lines.removeFirst()
        XCTAssertEqual(lines.map { $0[0] }, table.propertyIDs, "the same homes, in the same order")
        var compared = 0
        for feature in RawFeature.allCases where feature != .propertyType {
            let column = try XCTUnwrap(header.firstIndex(of: feature.name), feature.name)
            for (row, fields) in lines.enumerated() {
                let expected = Double(fields[column]) ?? .nan
                let actual = table.values[feature.rawValue][row]
                XCTAssertEqual(actual.isNaN, expected.isNaN, "\(feature.name) of \(fields[0])")
                if !actual.isNaN, !expected.isNaN {
                    XCTAssertEqual(actual, expected, accuracy: 1e-9 * max(1, abs(expected)), "\(feature.name) of \(fields[0])")
                    compared += 1
                }
            }
        }
        let labelColumn = try XCTUnwrap(header.firstIndex(of: "label"))
        XCTAssertEqual(lines.map { Double($0[labelColumn])! }, table.label)
        XCTAssertGreaterThan(compared, 2500)

        // Streaming (zip rates counted by SQL, rows in chunks) gives the same rows and values.
        var streamed: [String] = []
        var streamedValues = Array(repeating: [Double](), count: RawFeature.allCases.count)
        try db.streamFeatures(FeatureSettings(asOfDays: [DayNumber.parse("2023-06-30")!]), chunkRows: 17) { chunk in
            streamed += chunk.propertyIDs
            for f in RawFeature.allCases.indices { streamedValues[f] += chunk.values[f] }
        }
        XCTAssertEqual(streamed, table.propertyIDs)
        for f in RawFeature.allCases.indices {
            XCTAssertEqual(streamedValues[f].map { $0.isNaN ? -1e300 : $0 }, table.values[f].map { $0.isNaN ? -1e300 : $0 },
                           RawFeature.allCases[f].name)
        }
    }
}
