// The JSON of the Data API's resources (snake_case keys, ISO dates), made from ListwiseKit's
// types. Optional fields are left out when they have no value (the OpenAPI document lists only
// the always-present ones as required).
import Foundation
import ListwiseKit

struct TerritoryResource: Encodable {
    var name: String
    var kind: String
    var definition: DefinitionResource
    var createdAt: String
    var homes: Int?
    var latestRun: RunResource?

    enum CodingKeys: String, CodingKey {
        case name, kind, definition, createdAt = "created_at", homes, latestRun = "latest_run"
    }

    init(_ territory: TerritoryInfo, homes: Int? = nil, latestRun: ScoreRunRecord?) {
        (name, kind, definition, createdAt) = (territory.name, territory.definition.kind, DefinitionResource(territory.definition),
                                               territory.createdAt)
        self.homes = homes
        self.latestRun = latestRun.map(RunResource.init)
    }
}

/// A territory's definition: {"zips": [...]}, {"cities": [...]}, {"polygons": GeoJSON MultiPolygon
/// coordinates ([longitude, latitude])}, or {"latitude", "longitude", "miles"}.
struct DefinitionResource: Encodable {
    var definition: TerritoryDefinition
    init(_ definition: TerritoryDefinition) { self.definition = definition }

    enum Keys: String, CodingKey { case zips, cities, polygons, latitude, longitude, miles }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        switch definition {
        case .zips(let zips): try container.encode(zips, forKey: .zips)
        case .cities(let cities): try container.encode(cities, forKey: .cities)
        case .polygons(let polygons):
            try container.encode(polygons.map { $0.map { $0.map { [$0.longitude, $0.latitude] } } }, forKey: .polygons)
        case .radius(let center, let miles):
            try container.encode(center.latitude, forKey: .latitude)
            try container.encode(center.longitude, forKey: .longitude)
            try container.encode(miles, forKey: .miles)
        }
    }
}

struct RunResource: Encodable {
    var id: Int64
    var territory: String?
    var asOf: String
    var horizonDays: Int
    var modelFile: String
    var modelFingerprint: String
    var startedAt: String
    var finishedAt: String
    var homes: Int
    var onMarket: Int

    enum CodingKeys: String, CodingKey {
        case id, territory, asOf = "as_of", horizonDays = "horizon_days", modelFile = "model_file", modelFingerprint = "model_fingerprint"
        case startedAt = "started_at", finishedAt = "finished_at", homes, onMarket = "on_market"
    }

    init(_ run: ScoreRunRecord) {
        (id, territory, asOf, horizonDays, modelFile, modelFingerprint) = (run.id, run.territory, run.asOf, run.horizonDays, (run.modelFile as NSString).lastPathComponent,
                                                                           run.modelFingerprint)
        (startedAt, finishedAt, homes, onMarket) = (run.startedAt, run.finishedAt, run.rows, run.onMarket)
    }
}

struct ScoreResource: Encodable {
    var propertyID: String
    var address: String
    var zip: String
    var probability: Double
    var rank: Int?
    var percentile: Double?
    var tier: String?
    var onMarket: Bool
    var reasons: [String]

    enum CodingKeys: String, CodingKey {
        case propertyID = "property_id", address, zip, probability, rank, percentile, tier, onMarket = "on_market", reasons
    }

    init(_ home: ScoredHome) {
        (propertyID, address, zip, probability, rank, percentile, tier, onMarket) = (home.propertyID, home.address, home.zip, home.probability,
                                                                                     home.rank, home.percentile, home.tier, home.onMarket)
        reasons = [home.reason1, home.reason2, home.reason3].compactMap { $0 }
    }
}

/// Written by `json()` (ScoresPageJSON.swift); `Encodable` is the reference it is tested against.
struct ScoresPageResource: Encodable {
    var territory: String
    var run: RunResource
    var homes: [ScoredHome]
    /// The cursor of the next page; absent on the last page.
    var nextCursor: String?

    enum CodingKeys: String, CodingKey { case territory, run, homes, nextCursor = "next_cursor" }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(territory, forKey: .territory)
        try container.encode(run, forKey: .run)
        try container.encode(homes.map(ScoreResource.init), forKey: .homes)
        try container.encodeIfPresent(nextCursor, forKey: .nextCursor)
    }
}

struct HomeResource: Encodable {
    var property: PropertyRecord
    /// Only for keys with the export scope.
    var people: [HomeProspect]?
    var latestScore: HomeRunScore?
    var scores: [HomeRunScore]

    enum CodingKeys: String, CodingKey { case property, people, latestScore = "latest_score", scores }
}

struct SearchResource: Encodable {
    var query: String
    var hits: [SearchHit]
}

struct ModelResource: Encodable {
    var file: String
    var createdAt: String
    var horizonDays: Int
    var trainingAsOf: [String]
    var validationAsOf: String
    var fingerprint: String
    var metrics: ModelMetrics

    enum CodingKeys: String, CodingKey {
        case file, createdAt = "created_at", horizonDays = "horizon_days", trainingAsOf = "training_as_of"
        case validationAsOf = "validation_as_of", fingerprint, metrics
    }
}

/// A list under one key: {"territories": [...]}, {"runs": [...]} ...
struct ListResource<Item: Encodable>: Encodable {
    var key: String
    var items: [Item]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(items, forKey: Key(stringValue: key))
    }
}

/// `POST /v1/territories/{name}/exports`: the CLI's export options.
struct ExportRequest: Decodable {
    var channel: String
    var campaign: String
    var top: Int?
    var topPercent: Double?
    var minProbability: Double?
    var run: Int64?
    var excludeContactedWithin: Int?
    var includeOnMarket: Bool?
    var adsFormat: String?
    var format: String?
    var holdoutPercent: Int?
    var holdoutSeed: Int?

    enum CodingKeys: String, CodingKey {
        case channel, campaign, top, topPercent = "top_percent", minProbability = "min_probability", run
        case excludeContactedWithin = "exclude_contacted_within", includeOnMarket = "include_on_market", adsFormat = "ads_format", format
        case holdoutPercent = "holdout_percent", holdoutSeed = "holdout_seed"
    }
}
