// Named prepared statements for the reads every command (and each API request) repeats: a
// connection parses and plans each once, then only binds and executes (postgres-nio prepares a
// statement on a connection the first time it runs there).
import Foundation
import PostgresNIO

/// Counts of the four data tables.
struct DataCountsStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT (SELECT count(*) FROM properties), (SELECT count(*) FROM owners),
               (SELECT count(*) FROM prospects), (SELECT count(*) FROM events)
        """
    func makeBindings() throws -> PostgresBindings { PostgresBindings() }
    func decodeRow(_ row: PostgresRow) throws -> DataCounts {
        let (properties, owners, prospects, events) = try row.decode((Int, Int, Int, Int).self)
        return DataCounts(properties: properties, owners: owners, prospects: prospects, events: events)
    }
}

/// The columns of a score run, as `ScoreRunRecord` holds them (timestamps as SQLite's text).
enum ScoreRunColumns {
    static let list = """
        id, model_file, model_fingerprint, territory, as_of::text, horizon_days::bigint, \(PostgresStore.timestampText("started_at")),
        \(PostgresStore.timestampText("finished_at")), rows, on_market, feature_counts::text
        """

    static func record(_ row: PostgresRow) throws -> ScoreRunRecord {
        let (id, modelFile, fingerprint, territory, asOf, horizon, started, finished, count, onMarket, featureCounts)
            = try row.decode((Int64, String, String, String?, String, Int, String, String, Int, Int, String?).self)
        return ScoreRunRecord(id: id, modelFile: modelFile, modelFingerprint: fingerprint, territory: territory, asOf: asOf,
                              horizonDays: horizon, startedAt: started, finishedAt: finished, rows: count, onMarket: onMarket,
                              featureCounts: featureCounts)
    }
}

/// The run `id`, else the latest run of `territory`, else the latest run.
struct ScoreRunStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT \(ScoreRunColumns.list) FROM score_runs
        WHERE ($1::bigint IS NULL OR id = $1::bigint) AND ($1::bigint IS NOT NULL OR $2::text IS NULL OR territory = $2::text)
        ORDER BY id DESC LIMIT 1
        """
    var id: Int64?
    var territory: String?

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(id)
        bindings.append(territory)
        return bindings
    }
    func decodeRow(_ row: PostgresRow) throws -> ScoreRunRecord { try ScoreRunColumns.record(row) }
}

/// Homes of a run by rank (on-market homes last, ties by property id in byte order, as on
/// SQLite), at most `limit`.
struct ScoredHomesStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT s.property_id, p.address, p.zip, s.probability, s.rank, s.percentile, s.tier, s.on_market,
               s.reason1, s.reason2, s.reason3
        FROM scores s JOIN properties p ON p.property_id = s.property_id
        WHERE s.run_id = $1
        ORDER BY s.rank IS NULL, s.rank, s.property_id COLLATE "C"
        LIMIT $2
        """
    var runID: Int64
    var limit: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(runID)
        bindings.append(limit)
        return bindings
    }
    func decodeRow(_ row: PostgresRow) throws -> ScoredHome { try Self.home(row) }

    /// A row of the columns above.
    static func home(_ row: PostgresRow) throws -> ScoredHome {
        let (id, address, zip, probability, rank, percentile, tier, onMarket, reason1, reason2, reason3)
            = try row.decode((String, String, String, Double, Int?, Double?, String?, Bool, String?, String?, String?).self)
        return ScoredHome(propertyID: id, address: address, zip: zip, probability: probability, rank: rank,
                          percentile: percentile, tier: tier, onMarket: onMarket, reason1: reason1, reason2: reason2, reason3: reason3)
    }
}

/// The newest event date the imports recorded, in days since 1970.
struct NewestImportedEventDayStatement: PostgresPreparedStatement {
    static let sql = "SELECT max(newest_event_date) - DATE '1970-01-01' FROM imports"
    func makeBindings() throws -> PostgresBindings { PostgresBindings() }
    func decodeRow(_ row: PostgresRow) throws -> Int? { try row.decode(Int?.self) }
}
