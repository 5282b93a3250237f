// What the Data API (SPEC §8) reads from a store: pages of a run's scores by keyset, one home with
// its score history, the exports. Types here are the JSON the API returns (snake_case keys).
import Foundation

/// Filters of a page of scores; nil: any.
public struct ScoreFilter: Equatable, Sendable {
    public var tier: String?
    public var zip: String?
    public var minProbability: Double?
    public var onMarket: Bool?

    public init(tier: String? = nil, zip: String? = nil, minProbability: Double? = nil, onMarket: Bool? = nil) {
        (self.tier, self.zip, self.minProbability, self.onMarket) = (tier, zip, minProbability, onMarket)
    }
}

/// Where a page of scores ends: the last home's place in the run's order (rank, on-market homes
/// last by property id). Bound to its run, so that the next page comes from the same run while a
/// refresh writes a new one. Opaque to clients: base64url of "run:rank:property".
public struct ScoreCursor: Equatable, Sendable {
    public var runID: Int64
    /// nil: the last home was on the market (unranked); the order goes on by property id.
    public var rank: Int?
    public var propertyID: String

    public init(runID: Int64, rank: Int?, propertyID: String) {
        (self.runID, self.rank, self.propertyID) = (runID, rank, propertyID)
    }

    // URL-safe base64 without padding (RFC 4648 §5). The characters are swapped byte by byte:
    // Foundation's replacingOccurrences cost ~3 % of a page request on Linux.
    public var token: String {
        let text = "\(runID):\(rank.map(String.init) ?? ""):\(propertyID)"
        let base64 = Data(text.utf8).base64EncodedData()
        return String(decoding: base64.compactMap { byte -> UInt8? in
            switch byte {
            case UInt8(ascii: "+"): UInt8(ascii: "-")
            case UInt8(ascii: "/"): UInt8(ascii: "_")
            case UInt8(ascii: "="): nil
            default: byte
            }
        }, as: UTF8.self)
    }

    /// nil for a token this API did not make.
    public init?(token: String) {
        guard token.utf8.count <= 400 else { return nil }
        var base64 = token.utf8.map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "-"): UInt8(ascii: "+")
            case UInt8(ascii: "_"): UInt8(ascii: "/")
            default: byte
            }
        }
        while base64.count % 4 != 0 { base64.append(UInt8(ascii: "=")) }
        guard let data = Data(base64Encoded: Data(base64)), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let run = Int64(parts[0]), run > 0, !parts[2].isEmpty else { return nil }
        if parts[1].isEmpty {
            rank = nil
        } else {
            guard let value = Int(parts[1]), value > 0 else { return nil }
            rank = value
        }
        (runID, propertyID) = (run, String(parts[2]))
    }
}

/// One home's score in one run, for its history.
public struct HomeRunScore: Codable, Equatable, Sendable {
    public var runID: Int64
    public var territory: String?
    public var asOf: String
    public var probability: Double
    public var rank: Int?
    public var percentile: Double?
    public var tier: String?
    public var onMarket: Bool
    public var reasons: [String]

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", territory, asOf = "as_of", probability, rank, percentile, tier, onMarket = "on_market", reasons
    }
}

/// A person at a home (PII: shown only to keys with the export scope).
public struct HomeProspect: Codable, Equatable, Sendable {
    public var prospectID: String
    public var firstName: String?
    public var lastName: String?
    public var email: String?
    public var phone: String?
    public var mailingAddress: String?
    public var mailingCity: String?
    public var mailingState: String?
    public var mailingZip: String?

    enum CodingKeys: String, CodingKey {
        case prospectID = "prospect_id", firstName = "first_name", lastName = "last_name", email, phone
        case mailingAddress = "mailing_address", mailingCity = "mailing_city", mailingState = "mailing_state", mailingZip = "mailing_zip"
    }
}

/// One home: its attributes, its people, and its scores across runs (newest run first).
public struct HomeDetail: Equatable, Sendable {
    public var property: PropertyRecord
    public var prospects: [HomeProspect]
    public var scores: [HomeRunScore]
}

/// One export (a list written for a campaign), for `GET /v1/exports`.
public struct ExportInfo: Codable, Equatable, Sendable {
    public var id: Int64
    public var campaign: String
    public var channel: String
    public var runID: Int64
    public var territory: String?
    public var selection: String
    public var exportedAt: String
    public var rows: Int
    public var prospects: Int

    enum CodingKeys: String, CodingKey {
        case id, campaign, channel, runID = "run_id", territory, selection, exportedAt = "exported_at", rows, prospects
    }
}

extension ScoredHome {
    /// Where this home stands in its run's order, as a cursor to go on after it.
    public func cursor(runID: Int64) -> ScoreCursor { ScoreCursor(runID: runID, rank: rank, propertyID: propertyID) }
}

/// A page of a run's scores in the run's order, from a store's two ordered reads: ranked homes
/// after a rank (`ranked`), and on-market homes (no rank) after a property id (`unranked`).
enum ScorePaging {
    /// Ranked homes are read in batches without the probability filter: probability never rises
    /// with rank, so the homes at or above `minProbability` are a prefix of the ranking and the
    /// read stops at the first home below it (a filter in SQL would scan the rest of the run,
    /// 1M rows, to learn that nothing more matches).
    static func page(filter: ScoreFilter, after cursor: ScoreCursor?, limit: Int,
                     ranked: (_ afterRank: Int, _ filter: ScoreFilter, _ limit: Int) async throws -> [ScoredHome],
                     unranked: (_ afterProperty: String?, _ filter: ScoreFilter, _ limit: Int) async throws -> [ScoredHome]) async throws -> [ScoredHome] {
        var homes: [ScoredHome] = []
        if filter.onMarket != true, cursor == nil || cursor?.rank != nil {
            var rankFilter = filter
            rankFilter.minProbability = nil
            var after = cursor?.rank ?? 0
            let minimum = filter.minProbability ?? -1
            reading: while homes.count < limit {
                let wanted = limit - homes.count
                let size = filter.minProbability == nil ? wanted : max(wanted, 256)
                let batch = try await ranked(after, rankFilter, size)
                for home in batch {
                    if home.probability < minimum { break reading }
                    homes.append(home)
                    if homes.count == limit { break reading }
                }
                guard let last = batch.last?.rank, batch.count >= size else { break }
                after = last
            }
        }
        if homes.count < limit, filter.onMarket != false, filter.tier == nil {
            homes += try await unranked(cursor?.rank == nil ? cursor?.propertyID : nil, filter, limit - homes.count)
        }
        return homes
    }
}
