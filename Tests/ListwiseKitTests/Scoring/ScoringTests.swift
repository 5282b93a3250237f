// Score runs: the model's formula on hand-built homes, reasons, ranks with ties, chunking.
import Foundation
import GRDB
import Synchronization
import XCTest
@testable import ListwiseKit

final class ScoringTests: TemporaryFolderTestCase {
    /// A hand-made model: bedrooms (mean 3, scale 1, coefficient 0.8) and home age (mean 50,
    /// scale 20, coefficient 0.5), intercept −2.
    private func handModel() -> LikelyToSellModel {
        func linear(_ name: String, mean: Double, scale: Double) -> FeatureTransform {
            FeatureTransform(feature: name, kind: .linear, logOffset: nil, knots: [], levels: [], missingIndicator: false,
                             columns: [name], imputed: [mean], means: [mean], scales: [scale])
        }
        return LikelyToSellModel(
            formatVersion: 1, createdAt: "", horizonDays: 365, trainingAsOf: [], validationAsOf: "2024-01-01", l2: 1,
            converged: true, iterations: 1,
            features: [linear("bedrooms", mean: 3, scale: 1), linear("home_age", mean: 50, scale: 20)],
            intercept: -2, coefficients: [0.8, 0.5], metrics: Metrics.evaluate(y: [0, 1], p: [0.2, 0.8]),
            rows: .init(training: 2, trainingPositives: 1, validation: 2, validationPositives: 1),
            trainingFingerprint: "hand", notes: [])
    }

    private func handDatabase() throws -> AppDatabase {
        let db = try makeDatabase()
        _ = try db.importFile(try file("properties.csv", """
            property_id,address,city,state,zip,bedrooms,year_built
            K1,1 A St,Oakland,CA,94610,5,2000
            K2,2 A St,Oakland,CA,94610,2,1930
            K3,3 A St,Oakland,CA,94611,3,1975
            K4,4 A St,Oakland,CA,94611,3,1975
            K5,5 A St,Oakland,CA,94611,4,1990

            """))
        _ = try db.importFile(try file("events.csv", "property_id,event_type,event_date\nK5,LISTING,2024-11-01\n"))
        return db
    }

    func testProbabilitiesFollowTheModelsFormula() throws {
        let db = try handDatabase()
        let model = handModel()
        let settings = ScoreSettings(asOfDay: DayNumber.parse("2025-01-01")!, modelFile: "hand.json")
        let summary = try db.score(model: model, settings: settings)
        XCTAssertEqual(summary.rows, 5)
        XCTAssertEqual(summary.onMarket, 1)
        let homes = Dictionary(uniqueKeysWithValues: try db.scoredHomes(runID: summary.runID).map { ($0.propertyID, $0) })
        func expected(bedrooms: Double, age: Double) -> Double {
            1 / (1 + exp(-(-2 + 0.8 * (bedrooms - 3) / 1 + 0.5 * (age - 50) / 20)))
        }
        XCTAssertEqual(homes["K1"]!.probability, expected(bedrooms: 5, age: 25), accuracy: 1e-12)
        XCTAssertEqual(homes["K2"]!.probability, expected(bedrooms: 2, age: 95), accuracy: 1e-12)
        XCTAssertEqual(homes["K3"]!.probability, expected(bedrooms: 3, age: 50), accuracy: 1e-12)
        XCTAssertTrue(homes["K5"]!.onMarket)
        XCTAssertNil(homes["K5"]!.rank, "on-market homes are flagged, not ranked")
        XCTAssertEqual(summary.expectedListings, ["K1", "K2", "K3", "K4"].reduce(0) { $0 + homes[$1]!.probability }, accuracy: 1e-12)
        let run = try db.scoreRun(id: nil, territory: nil)
        XCTAssertEqual(run.asOf, "2025-01-01")
        XCTAssertEqual(run.rows, 5)
        XCTAssertEqual(run.modelFingerprint, "hand")
    }

    func testReasonsNameTheFeaturesThatRaiseTheScore() throws {
        let db = try handDatabase()
        let run = try db.score(model: handModel(), settings: ScoreSettings(asOfDay: DayNumber.parse("2025-01-01")!, modelFile: "hand.json"))
        let byID = Dictionary(uniqueKeysWithValues: try db.scoredHomes(runID: run.runID).map { ($0.propertyID, $0) })
        XCTAssertEqual(byID["K1"]!.reason1, "5 bedrooms")
        XCTAssertNil(byID["K1"]!.reason2, "K1 is young: home age lowers its score, so it is no reason")
        XCTAssertEqual(byID["K2"]!.reason1, "built 95 years ago")
        XCTAssertNil(byID["K3"]!.reason1, "exactly average: nothing raises the score")
    }

    func testRanksPercentilesAndTiersWithTies() throws {
        // Probability rises with bedrooms (home age is average for all): ties where bedrooms tie.
        let db = try makeDatabase()
        let bedrooms = [6, 4, 4, 4, 2, 1, 5, 3, 3, 0]
        var csv = "property_id,address,city,state,zip,bedrooms,year_built\n"
        for (i, b) in bedrooms.enumerated() { csv += "R\(i),\(i) A St,Oakland,CA,94610,\(b),1975\n" }
        csv += "RM,99 A St,Oakland,CA,94610,9,1975\n"
        _ = try db.importFile(try file("properties.csv", csv))
        _ = try db.importFile(try file("events.csv", "property_id,event_type,event_date\nRM,LISTING,2024-12-01\n"))
        let run = try db.score(model: handModel(), settings: ScoreSettings(asOfDay: DayNumber.parse("2025-01-01")!, modelFile: "hand.json"))
        XCTAssertEqual(run.tierCounts, ["High": 2, "Medium": 3, "Low": 5])
        let homes = Dictionary(uniqueKeysWithValues: try db.scoredHomes(runID: run.runID).map { ($0.propertyID, $0) })
        let ids = (0..<10).map { "R\($0)" }
        XCTAssertEqual(ids.map { homes[$0]!.rank }, [1, 3, 3, 3, 8, 9, 2, 6, 6, 10])
        XCTAssertNil(homes["RM"]!.rank, "on the market: flagged, not ranked")
        XCTAssertEqual(homes["R0"]!.percentile, 100)
        XCTAssertEqual(homes["R9"]!.percentile, 0)
        XCTAssertEqual(homes["R1"]!.percentile!, 100 * (5 + 1.0) / 9, accuracy: 1e-12, "5 below, 2 other tied")
        XCTAssertEqual(ids.map { homes[$0]!.tier }, ["High", "Medium", "Medium", "Medium", "Low", "Low", "High", "Low", "Low", "Low"])
        // The rank order of the Data API's pages: on the market first (rank 0), then by rank and id,
        // the same as the SQL fill from the written scores (used by a store copy).
        let order = "SELECT rank, property_id FROM score_ranks WHERE run_id = ? ORDER BY rank, property_id"
        let written = try db.read { try Row.fetchAll($0, sql: order, arguments: [run.runID]).map { "\($0[0] as Int) \($0[1] as String)" } }
        XCTAssertEqual(written, ["0 RM", "1 R0", "2 R6", "3 R1", "3 R2", "3 R3", "6 R7", "6 R8", "8 R4", "9 R5", "10 R9"])
        try db.write { db in
            try db.execute(sql: "DELETE FROM score_ranks")
            try AppDatabase.fillScoreRanks(db, runID: run.runID)
        }
        XCTAssertEqual(try db.read { try Row.fetchAll($0, sql: order, arguments: [run.runID]).map { "\($0[0] as Int) \($0[1] as String)" } }, written)
    }

    func testChunkedScoringEqualsScoringAtOnceAndTerritoriesLimitTheScope() throws {
        let db = try importedCounty(properties: 1500, seed: 4)
        let model = try db.trainModel(TrainingSettings()).model
        var settings = ScoreSettings(asOfDay: DayNumber.parse("2025-12-31")!, modelFile: "m.json")
        settings.chunkRows = 1_000_000
        settings.workers = 1
        let atOnceRun = try db.score(model: model, settings: settings)
        let atOnce = try db.scoredHomes(runID: atOnceRun.runID)
        // In chunks of 97 homes, by three threads each over a third of the property ids.
        settings.chunkRows = 97
        settings.workers = 3
        let chunkedRun = try db.score(model: model, settings: settings)
        let chunked = try db.scoredHomes(runID: chunkedRun.runID)
        XCTAssertEqual(atOnce.count, 1500)
        XCTAssertEqual(chunkedRun.rows, 1500)
        XCTAssertEqual(atOnceRun.tierCounts, chunkedRun.tierCounts)
        XCTAssertEqual(atOnceRun.tierCounts, Dictionary(grouping: atOnce.compactMap(\.tier), by: { $0 }).mapValues(\.count),
                       "the summary's tier counts are those written")
        XCTAssertEqual(atOnceRun.expectedListings, chunkedRun.expectedListings, accuracy: 1e-9)
        XCTAssertEqual(atOnce.map(\.propertyID), chunked.map(\.propertyID))
        // BLAS may block a 97-row chunk differently from a 1500-row matrix: the last bits can differ.
        for (a, b) in zip(atOnce, chunked) {
            XCTAssertEqual(a.probability, b.probability, accuracy: 1e-13 * a.probability)
            XCTAssertEqual([a.rank, a.tier, a.reason1, a.reason2, a.reason3] as [AnyHashable?],
                           [b.rank, b.tier, b.reason1, b.reason2, b.reason3] as [AnyHashable?])
        }

        let zip = try db.read { try String.fetchOne($0, sql: "SELECT zip FROM properties GROUP BY zip ORDER BY count(*) DESC") }!
        try db.addTerritory(name: "one-zip", definition: .zips([zip]))
        settings.territory = "one-zip"
        let summary = try db.score(model: model, settings: settings)
        let inZip = try db.propertyIDs(in: .zips([zip]))
        XCTAssertEqual(summary.rows, inZip.count)
        let homes = try db.scoredHomes(runID: summary.runID)
        XCTAssertEqual(Set(homes.map(\.propertyID)), Set(inZip))
        XCTAssertEqual(homes.compactMap(\.rank).max(), homes.filter { !$0.onMarket }.count, "ranked within the territory")
        XCTAssertEqual(try db.scoreRun(id: nil, territory: "one-zip").id, summary.runID)
        // The territory's homes have the same probabilities as in the county-wide run (zip rates are county-wide).
        let countyWide = Dictionary(uniqueKeysWithValues: atOnce.map { ($0.propertyID, $0.probability) })
        for home in homes { XCTAssertEqual(home.probability, countyWide[home.propertyID]!, accuracy: 1e-13 * home.probability) }
    }

    /// A tree model's run (two looks: the walks for the ranks, then the reasons while the
    /// ranks are written) stores what scoring the whole table at once gives, by several readers
    /// in small chunks, with and without a territory.
    func testTreeModelRunsStoreTheScoresOfTheWholeTable() throws {
        let db = try importedCounty(properties: 1500, seed: 7)
        var training = TrainingSettings()
        training.family = .gbm
        let model = try db.trainModel(training).model
        XCTAssertEqual(model.modelFamily, .gbm)
        let day = DayNumber.parse("2025-12-31")!
        let zip = try db.read { try String.fetchOne($0, sql: "SELECT zip FROM properties GROUP BY zip ORDER BY count(*) DESC") }!
        for scope in [nil, TerritoryDefinition.zips([zip])] {
            var settings = ScoreSettings(asOfDay: day, modelFile: "trees.json")
            settings.chunkRows = 97
            settings.workers = 3
            if let scope {
                try db.addTerritory(name: "one-zip", definition: scope)
                settings.territory = "one-zip"
            }
            let run = try db.score(model: model, settings: settings)
            let table = try db.buildFeatures(FeatureSettings(asOfDays: [day], horizonDays: model.horizonDays, marketRates: .standard,
                                                             includeOnMarket: true, scope: scope))
            let expected = try HomeScore.scores(of: table, model: model, features: try model.rawFeatures())
            XCTAssertEqual(run.rows, expected.count)
            XCTAssertGreaterThan(run.rows, scope == nil ? 1400 : 50)
            let ranking = Ranking(probabilities: expected.filter { !$0.onMarket }.map(\.probability))
            XCTAssertEqual(run.tierCounts, ranking.tierCounts(high: 0.2, medium: 0.3))
            XCTAssertEqual(run.expectedListings, expected.filter { !$0.onMarket }.reduce(0) { $0 + $1.probability }, accuracy: 1e-9)
            let homes = try db.scoredHomes(runID: run.runID)
            let byID = Dictionary(uniqueKeysWithValues: homes.map { ($0.propertyID, $0) })
            XCTAssertEqual(byID.count, expected.count)
            for score in expected {
                let home = try XCTUnwrap(byID[score.propertyID])
                XCTAssertEqual(home.probability, score.probability, "\(score.propertyID): the trees' walk, bit for bit")
                XCTAssertEqual(home.onMarket, score.onMarket)
                XCTAssertEqual([home.reason1, home.reason2, home.reason3].compactMap { $0 }, score.reasons, score.propertyID)
                XCTAssertEqual(home.rank, score.onMarket ? nil : ranking.rank(of: score.probability))
            }
            // The rank order as the SQL fill from the written scores gives it.
            let order = "SELECT rank, property_id FROM score_ranks WHERE run_id = ? ORDER BY rank, property_id"
            let written = try db.read { try Row.fetchAll($0, sql: order, arguments: [run.runID]).map { "\($0[0] as Int) \($0[1] as String)" } }
            try db.write { db in
                try db.execute(sql: "DELETE FROM score_ranks WHERE run_id = ?", arguments: [run.runID])
                try AppDatabase.fillScoreRanks(db, runID: run.runID)
            }
            XCTAssertEqual(try db.read { try Row.fetchAll($0, sql: order, arguments: [run.runID]).map { "\($0[0] as Int) \($0[1] as String)" } },
                           written)
            XCTAssertEqual(written.count, expected.count)
        }
    }

    /// The second look of a pass that kept its spills gives every row again, in the order of a
    /// one-thread pass; an error on its thread reaches the caller.
    func testSecondLookGivesThePassRowsAgainInOrder() throws {
        struct Broken: Error {}
        let db = try importedCounty(properties: 600, seed: 8)
        let settings = FeatureSettings(asOfDays: [DayNumber.parse("2024-12-31")!], horizonDays: 365, includeOnMarket: true)
        func start() throws -> FeatureReaders<FeatureTable> {
            try db.writeWithoutTransaction { connection in
                var readers: FeatureReaders<FeatureTable>?
                try connection.inTransaction(.immediate) {
                    readers = try db.startFeatureReaders(connection, settings: settings, workers: 2, chunkRows: 41,
                                                         countZipsInPass: true, keepSpills: true) { $0 }
                    return .commit
                }
                return readers!
            }
        }
        @Sendable func rows(_ chunk: FeatureTable) -> [String] {
            (0..<chunk.count).map { row in ([chunk.onMarket[row].description] + chunk.values.map { "\($0[row].bitPattern)" }).joined(separator: " ") }
        }
        let readers = try start()
        var parts = [[String]](repeating: [], count: readers.parts)
        try readers.forEach { part, chunk in
            XCTAssertEqual(chunk.propertyIDs.count, chunk.count)
            parts[part] += rows(chunk)
        }
        var again: [String] = []
        var lastPart = 0
        try readers.lookAgain(capacity: 1) { chunk in
            XCTAssertTrue(chunk.propertyIDs.isEmpty, "no ids made again")
            return rows(chunk)
        }.forEach { part, chunk in
            XCTAssertGreaterThanOrEqual(part, lastPart, "parts in order")
            lastPart = part
            again += chunk
        }
        XCTAssertEqual(again, parts.flatMap { $0 })
        XCTAssertEqual(again.count, 600)

        let failing = try start()
        try failing.forEach { _, _ in }
        let second = failing.lookAgain { _ -> Int in throw Broken() }
        XCTAssertThrowsError(try second.forEach { _, _ in }) { XCTAssertTrue($0 is Broken) }
    }

    func testPropertyRangesSplitTheHomesWithoutGapsOrOverlaps() throws {
        let db = try importedCounty(properties: 300, seed: 5)
        let ranges = try db.read { try AppDatabase.propertyRanges($0, parts: 3) }
        XCTAssertEqual(ranges.count, 3)
        XCTAssertNil(ranges.first?.lower)
        XCTAssertNil(ranges.last?.upper)
        for (a, b) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(a.upper, b.lower) }
        let ids = try db.read { try String.fetchAll($0, sql: "SELECT property_id FROM properties ORDER BY property_id") }
        let counts = ranges.map { range in ids.filter { id in (range.lower.map { id >= $0 } ?? true) && (range.upper.map { id < $0 } ?? true) }.count }
        XCTAssertEqual(counts, [100, 100, 100])
    }

    func testPositionRanksAreTheRanksOfTheSortedProbabilities() {
        // Two parts, ties within and across parts, homes on the market (NaN) left unranked.
        var generator = SystemRandomNumberGenerator()
        let parts: [[Double]] = [(0..<500).map { i in i % 37 == 0 ? .nan : Double(Int.random(in: 0..<200, using: &generator)) / 200 },
                                 [], (0..<300).map { _ in Double(Int.random(in: 0..<200, using: &generator)) / 200 }]
        let ranked = parts.flatMap { $0 }.filter { !$0.isNaN }
        let reference = Ranking(probabilities: ranked)
        let positions = PositionRanking(parts)
        XCTAssertEqual(positions.count, ranked.count)
        for (part, rows) in parts.enumerated() {
            for (row, p) in rows.enumerated() {
                XCTAssertEqual(positions.rank(part: part, row: row), p.isNaN ? 0 : reference.rank(of: p))
                XCTAssertEqual(positions.tied(part: part, row: row), p.isNaN ? 0 : reference.tiedCount(of: p))
            }
        }
        XCTAssertEqual(positions.tierCounts(high: 0.2, medium: 0.3), reference.tierCounts(high: 0.2, medium: 0.3))
        // Rank order: every ranked home once, by rank, equal ranks by position.
        var order: [(part: Int, row: Int, rank: Int)] = []
        positions.forEachInRankOrder { order.append(($0, $1, $2)) }
        XCTAssertEqual(order.count, ranked.count)
        for (a, b) in zip(order, order.dropFirst()) {
            XCTAssertTrue(a.rank < b.rank || (a.rank == b.rank && (a.part, a.row) < (b.part, b.row)), "\(a) before \(b)")
        }
        for home in order { XCTAssertEqual(home.rank, positions.rank(part: home.part, row: home.row)) }
    }

    func testChunkQueueStopsEveryoneOnAnError() throws {
        struct Broken: Error {}
        // A producer's error reaches the consumer (the run fails; queued chunks do not matter).
        let failing = ChunkQueue<[HomeScore]>(producers: 2, capacity: 4)
        try failing.put([], part: 0)
        failing.finish(Broken())
        XCTAssertThrowsError(try failing.put([], part: 1), "the other producer is stopped")
        failing.finish(CancellationError())
        XCTAssertThrowsError(try failing.next()) { XCTAssertTrue($0 is Broken) }
        // A consumer that gives up stops producers waiting for room, and waits for them.
        let abandoned = ChunkQueue<[HomeScore]>(producers: 1, capacity: 1)
        let stopped = expectation(description: "the producer stopped")
        DispatchQueue.global().async {
            do { while true { try abandoned.put([], part: 0) } } catch {
                XCTAssertTrue(error is CancellationError)
                abandoned.finish(error)
                stopped.fulfill()
            }
        }
        XCTAssertNotNil(try abandoned.next())
        abandoned.cancelAndWait()
        wait(for: [stopped], timeout: 10)
    }

    /// Every feature row, bit for bit, as the readers hand them over (in part order).
    private func readerRows(_ db: AppDatabase, _ settings: FeatureSettings, workers: Int, chunkRows: Int,
                            countZipsInPass: Bool) throws -> (rows: [String], homesRead: Int) {
        let homesRead = Mutex(0)
        let readers = try db.writeWithoutTransaction { connection in
            var readers: FeatureReaders<FeatureTable>?
            try connection.inTransaction(.immediate) {
                readers = try db.startFeatureReaders(connection, settings: settings, workers: workers, chunkRows: chunkRows,
                                                     countZipsInPass: countZipsInPass,
                                                     read: { homes in homesRead.withLock { $0 = max($0, homes) } }) { $0 }
                return .commit
            }
            return readers!
        }
        var parts = [[String]](repeating: [], count: readers.parts)
        try readers.forEach { part, chunk in
            XCTAssertLessThanOrEqual(chunk.count, chunkRows + settings.asOfDays.count)
            for row in 0..<chunk.count {
                parts[part].append(([chunk.propertyIDs[row], "\(chunk.snapshot[row])", "\(chunk.label[row].bitPattern)", "\(chunk.onMarket[row])"]
                                    + chunk.values.map { "\($0[row].bitPattern)" }).joined(separator: " "))
            }
        }
        return (parts.flatMap { $0 }, homesRead.withLock { $0 })
    }

    func testZipsCountedInThePassGiveTheRowsOfZipsCountedBySQL() throws {
        let db = try importedCounty(properties: 1500, seed: 6)
        let asOf = DayNumber.parse("2024-12-31")!
        let zip = try db.read { try String.fetchOne($0, sql: "SELECT zip FROM properties GROUP BY zip ORDER BY count(*) DESC") }!
        for scope in [nil, TerritoryDefinition.zips([zip])] {
            let settings = FeatureSettings(asOfDays: [asOf - 365, asOf], horizonDays: 365, includeOnMarket: true, scope: scope)
            let bySQL = try readerRows(db, settings, workers: 1, chunkRows: 1_000_000, countZipsInPass: false)
            XCTAssertGreaterThan(bySQL.rows.count, scope == nil ? 2000 : 50)
            XCTAssertEqual(bySQL.homesRead, 0, "no read progress when the zips are counted before the pass")
            // Three readers, chunks of 97 rows, ranges read by one reader and scored by another.
            let inPass = try readerRows(db, settings, workers: 3, chunkRows: 97, countZipsInPass: true)
            XCTAssertEqual(inPass.rows, bySQL.rows)
            XCTAssertEqual(inPass.homesRead, 1500, "every home of the county is read (the zip rates are county-wide)")
            // The zip rates are there (the column is not left NaN).
            let rateColumn = 4 + RawFeature.zipListingRate36Months.rawValue
            XCTAssertTrue(inPass.rows.contains { !Double(bitPattern: UInt64($0.split(separator: " ")[rateColumn])!).isNaN })
        }
    }

    func testSpilledChunksComeBackAsAppended() throws {
        var first = FeatureTable()
        first.propertyIDs = ["A1", "", "Ünïcode-9"]
        first.snapshot = [0, 1, 2]
        first.label = [1, .nan, 0]
        first.onMarket = [false, true, false]
        first.values = RawFeature.allCases.map { f in [Double(f.rawValue), .nan, -0.0 + Double(f.rawValue) / 7] }
        first.hasOwnerHistory = true
        first.dataEndDay = 20_000
        var second = FeatureTable()
        second.propertyIDs = ["B"]
        second.snapshot = [4]
        second.label = [0]
        second.onMarket = [true]
        second.values = RawFeature.allCases.map { _ in [.infinity] }
        second.marketRateCarried = true
        let spill = try SpilledChunks(reader: 2)
        try spill.append(first, rowZip: [3, 0, 3])
        try spill.append(FeatureTable(), rowZip: [])
        try spill.append(second, rowZip: [7])
        var back: [(FeatureTable, [Int32])] = []
        try spill.forEach { back.append(($0, $1)) }
        XCTAssertEqual(back.count, 2, "an empty chunk is not kept")
        for ((table, rowZip), (expected, expectedZips)) in zip(back, [(first, [Int32]([3, 0, 3])), (second, [7])]) {
            XCTAssertEqual(table.propertyIDs, expected.propertyIDs)
            XCTAssertEqual(table.snapshot, expected.snapshot)
            XCTAssertEqual(table.label.map(\.bitPattern), expected.label.map(\.bitPattern))
            XCTAssertEqual(table.onMarket, expected.onMarket)
            XCTAssertEqual(table.values.map { $0.map(\.bitPattern) }, expected.values.map { $0.map(\.bitPattern) })
            XCTAssertEqual([table.hasOwnerHistory, table.marketRateCarried], [expected.hasOwnerHistory, expected.marketRateCarried])
            XCTAssertEqual(table.dataEndDay, expected.dataEndDay)
            XCTAssertEqual(rowZip, expectedZips)
        }
        XCTAssertEqual(spill.reader, 2)
        // Read again (any number of times), without the ids: the same values.
        var again: [FeatureTable] = []
        try spill.forEach(ids: false) { table, _ in again.append(table) }
        XCTAssertEqual(again.map(\.propertyIDs), [[], []])
        XCTAssertEqual(again.map { $0.values.map { $0.map(\.bitPattern) } }, back.map { $0.0.values.map { $0.map(\.bitPattern) } })
        XCTAssertEqual(again.map(\.count), [3, 1])
    }

    func testMergedZipCountsMapEachReadersSlots() {
        func counts(_ zips: [String], homes: [Double], listings: [Double]) -> ZipCounts {
            var counts = ZipCounts()
            counts.index = Dictionary(uniqueKeysWithValues: zips.enumerated().map { ($1, $0) })
            counts.homes = [homes]
            counts.listings = [listings]
            return counts
        }
        let (total, slots) = ZipCounts.merged([counts(["94610", "94611"], homes: [10, 20], listings: [1, 2]),
                                               counts(["94612", "94610"], homes: [5, 7], listings: [0, 3])], snapshots: 1)
        XCTAssertEqual(slots[0].map { total.homes[0][Int($0)] }, [17, 20])
        XCTAssertEqual(slots[1].map { total.homes[0][Int($0)] }, [5, 17])
        XCTAssertEqual(slots[1].map { total.listings[0][Int($0)] }, [0, 4])
        XCTAssertEqual(slots[1][1], slots[0][0], "the same zip, one slot")
        XCTAssertEqual(total.homes[0].reduce(0, +), 42)
    }
}
