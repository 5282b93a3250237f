// The /v1 routes: each parses its request into a typed query, asks the store, and encodes the
// answer. Access rules live here: a key limited to territories sees only those territories and
// their homes; people's names, emails and phones only with the export scope.
import Foundation
import HTTPTypes
import Hummingbird
import ListwiseKit

struct DataRoutes: Sendable {
    let store: any Store
    let modelsFolder: String

    static let maximumLimit = 1000
    static let historyLimit = 100

    func register(on group: RouterGroup<APIContext>) {
        group.get("territories", use: territories)
        group.get("territories/{name}", use: territory)
        group.get("territories/{name}/scores", use: scores)
        group.post("territories/{name}/exports", use: export)
        group.get("territories/{name}/report.html", use: report)
        group.get("homes/{id}", use: home)
        group.get("homes/{id}/card.html", use: card)
        group.get("search", use: search)
        group.get("runs", use: runs)
        group.get("models", use: models)
        group.get("campaigns", use: campaigns)
        group.get("campaigns/{name}/results", use: campaignResults)
        group.get("exports", use: exports)
    }

    // MARK: Territories and scores

    @Sendable func territories(_ request: Request, context: APIContext) async throws -> Response {
        let key = try context.requireKey()
        var items: [TerritoryResource] = []
        for territory in try await store.territories() where key.allows(territory: territory.name) {
            items.append(TerritoryResource(territory, latestRun: try await store.scoreRuns(territory: territory.name, limit: 1).first))
        }
        return try json(ListResource(key: "territories", items: items), context)
    }

    @Sendable func territory(_ request: Request, context: APIContext) async throws -> Response {
        let territory = try await allowedTerritory(context)
        let homes = try await store.territoryContents(territory.definition).homes
        let run = try await store.scoreRuns(territory: territory.name, limit: 1).first
        return try json(TerritoryResource(territory, homes: homes, latestRun: run), context)
    }

    @Sendable func scores(_ request: Request, context: APIContext) async throws -> Response {
        let territory = try await allowedTerritory(context)
        let query = request.uri.queryParameters
        let limit = try Parameters.integer(query, "limit", default: 100, in: 1...Self.maximumLimit)
        let cursor = try query.get("cursor").map { token in
            guard let cursor = ScoreCursor(token: token) else { throw APIProblem.badParameter("cursor", "cursor is not one this API made") }
            return cursor
        }
        let runID = try Parameters.int64(query, "run")
        if let cursor, let runID, cursor.runID != runID {
            throw APIProblem.badParameter("cursor", "the cursor belongs to run \(cursor.runID), not run \(runID)")
        }
        var filter = ScoreFilter()
        filter.tier = try query.get("tier").map { tier in
            guard ["High", "Medium", "Low"].contains(tier) else { throw APIProblem.badParameter("tier", "tier must be High, Medium or Low") }
            return tier
        }
        filter.zip = try query.get("zip").map { zip in
            guard zip.count == 5, zip.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw APIProblem.badParameter("zip", "zip must be five digits") }
            return zip
        }
        filter.minProbability = try Parameters.double(query, "min_probability", in: 0...1)
        filter.onMarket = try Parameters.boolean(query, "on_market")

        let run = try await scoreRun(of: territory, id: cursor?.runID ?? runID)
        // One more than asked: the next cursor only when there is a next page.
        var homes = try await store.scoresPage(runID: run.id, filter: filter, after: cursor, limit: limit + 1)
        var next: String?
        if homes.count > limit {
            homes.removeLast()
            next = homes.last?.cursor(runID: run.id).token
        }
        let page = ScoresPageResource(territory: territory.name, run: RunResource(run), homes: homes, nextCursor: next)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: page.json())))
    }

    @Sendable func report(_ request: Request, context: APIContext) async throws -> Response {
        let territory = try await allowedTerritory(context)
        let runID = try Parameters.int64(request.uri.queryParameters, "run")
        let run = try await scoreRun(of: territory, id: runID)
        let report = try await store.territoryReport(territory: territory.name, runID: run.id)
        return html(HTMLReport.render(report), key: try context.requireKey())
    }

    // MARK: Homes and search

    @Sendable func home(_ request: Request, context: APIContext) async throws -> Response {
        let (detail, key) = try await allowedHome(context)
        let history = visibleScores(detail, key: key)
        return try json(HomeResource(property: detail.property, people: key.scope == .export ? detail.prospects : nil,
                                     latestScore: history.first, scores: history), context)
    }

    @Sendable func card(_ request: Request, context: APIContext) async throws -> Response {
        var (detail, key) = try await allowedHome(context)
        detail.scores = visibleScores(detail, key: key)
        return html(HomeCard.render(detail, people: key.scope == .export ? detail.prospects : nil), key: key)
    }

    @Sendable func search(_ request: Request, context: APIContext) async throws -> Response {
        let key = try context.requireKey()
        let query = request.uri.queryParameters
        guard let text = query.get("q"), !SearchText.words(text).isEmpty else {
            throw APIProblem.badParameter("q", "q must hold a word of an address or a name")
        }
        guard text.count <= 200 else { throw APIProblem.badParameter("q", "q is longer than 200 characters") }
        let limit = try Parameters.integer(query, "limit", default: 20, in: 1...100)
        let allowed = try await allowedDefinitions(key)
        let hits = try await store.search(text, includeNames: key.scope == .export, limit: limit) { hit in
            allowed.map { definitions in
                definitions.contains { $0.contains(zip: hit.zip, city: hit.city, latitude: hit.latitude, longitude: hit.longitude) }
            } ?? true
        }
        return try json(SearchResource(query: text, hits: hits), context)
    }

    // MARK: Runs, models, campaigns, exports

    @Sendable func runs(_ request: Request, context: APIContext) async throws -> Response {
        let key = try context.requireKey()
        let query = request.uri.queryParameters
        let limit = try Parameters.integer(query, "limit", default: 100, in: 1...Self.maximumLimit)
        let territory = query.get("territory")
        if let territory, !key.allows(territory: territory) { throw APIProblem.forbidden("this key may not read territory \(territory)") }
        let runs = try await store.scoreRuns(territory: territory, limit: key.territories.isEmpty ? limit : Int.max)
            .filter { key.allows(territory: $0.territory) }.prefix(limit)
        return try json(ListResource(key: "runs", items: runs.map(RunResource.init)), context)
    }

    @Sendable func models(_ request: Request, context: APIContext) async throws -> Response {
        _ = try context.requireKey()
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: modelsFolder)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        var items: [ModelResource] = []
        for file in files {
            // A file that is not a model (or not readable) is not listed.
            guard let model = try? LikelyToSellModel.load(path: (modelsFolder as NSString).appendingPathComponent(file)) else { continue }
            items.append(ModelResource(file: file, createdAt: model.createdAt, horizonDays: model.horizonDays, trainingAsOf: model.trainingAsOf,
                                       validationAsOf: model.validationAsOf, fingerprint: model.trainingFingerprint, metrics: model.metrics))
        }
        return try json(ListResource(key: "models", items: items), context)
    }

    @Sendable func campaigns(_ request: Request, context: APIContext) async throws -> Response {
        let key = try context.requireKey()
        var campaigns = try await store.campaigns()
        if !key.territories.isEmpty {
            // A limited key sees a campaign only when every list of it came from its territories.
            let exports = try await store.exports(limit: Int.max)
            campaigns = campaigns.filter { campaign in
                exports.filter { $0.campaign == campaign.name }.allSatisfy { key.allows(territory: $0.territory) }
            }
        }
        return try json(ListResource(key: "campaigns", items: campaigns), context)
    }

    /// A measured campaign's results (SPEC §11), as `listwise campaign results` gives them.
    @Sendable func campaignResults(_ request: Request, context: APIContext) async throws -> Response {
        let key = try context.requireKey()
        let name = try Parameters.path(context, "name")
        guard try await store.campaigns().contains(where: { $0.name == name }) else { throw APIProblem.notFound("no campaign named \(name)") }
        if !key.territories.isEmpty {
            let exports = try await store.exports(limit: Int.max).filter { $0.campaign == name }
            guard exports.allSatisfy({ key.allows(territory: $0.territory) }) else {
                throw APIProblem.forbidden("this key is limited to territories that do not hold every list of campaign \(name)")
            }
        }
        var asOfDay: Int?
        if let text = request.uri.queryParameters.get("as_of") {
            guard let day = DayNumber.parse(text) else { throw APIProblem.badParameter("as_of", "as_of must be a date YYYY-MM-DD") }
            asOfDay = day
        }
        return try json(try await store.campaignResults(name, asOfDay: asOfDay), context)
    }

    @Sendable func exports(_ request: Request, context: APIContext) async throws -> Response {
        let key = try context.requireKey()
        let limit = try Parameters.integer(request.uri.queryParameters, "limit", default: 100, in: 1...Self.maximumLimit)
        let exports = try await store.exports(limit: key.territories.isEmpty ? limit : Int.max)
            .filter { key.allows(territory: $0.territory) }.prefix(limit)
        return try json(ListResource(key: "exports", items: Array(exports)), context)
    }

    /// A list for a campaign, exactly as `listwise export` makes and records it.
    @Sendable func export(_ request: Request, context: APIContext) async throws -> Response {
        let territory = try await allowedTerritory(context)
        guard try context.requireKey().scope == .export else {
            throw APIProblem.forbidden("exports need a key with the export scope")
        }
        let body = try await request.body.collect(upTo: 64 * 1024)
        let options: ExportRequest
        do {
            options = try JSONDecoder().decode(ExportRequest.self, from: Data(buffer: body))
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIProblem.badParameter(key.stringValue, "the body has no \(key.stringValue)")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIProblem.badParameter(field, "\(field) has the wrong type")
        } catch {
            throw APIProblem(status: .badRequest, slug: "bad-body", detail: "the body must be a JSON object of export options")
        }
        let settings = try Self.exportSettings(options, territory: territory.name)
        let export = try await store.export(settings, to: nil) { _ in }
        let content = export.content
        var headers: HTTPFields = [
            .contentType: settings.format == .csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
            .contentDisposition: "attachment; filename=\"\(settings.campaign.filter { $0.isLetter || $0.isNumber || $0 == "-" })-\(export.summary.runID).\(settings.format.rawValue)\"",
            .cacheControl: "no-store",
        ]
        headers[HTTPField.Name("Listwise-Export-Rows")!] = String(export.summary.exportedRows)
        headers[HTTPField.Name("Listwise-Score-Run")!] = String(export.summary.runID)
        // Streamed in 64 KB pieces: the list is already whole in memory (it was written and
        // recorded as one step, as the CLI does), the socket takes it at its own pace.
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: content.count) { writer in
            var offset = 0
            while offset < content.count {
                let end = min(offset + 65_536, content.count)
                try await writer.write(ByteBuffer(bytes: content[offset..<end]))
                offset = end
            }
            try await writer.finish(nil)
        })
    }

    static func exportSettings(_ options: ExportRequest, territory: String) throws -> ExportSettings {
        guard let channel = ExportChannel(rawValue: options.channel) else {
            throw APIProblem.badParameter("channel", "channel must be mail, email or ads")
        }
        guard !options.campaign.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw APIProblem.badParameter("campaign", "campaign must not be empty")
        }
        let selections = [options.top != nil, options.topPercent != nil, options.minProbability != nil].filter { $0 }.count
        guard selections == 1 else { throw APIProblem.badParameter("top", "give exactly one of top, top_percent, min_probability") }
        let selection: ExportSelection
        if let top = options.top {
            guard top >= 1 else { throw APIProblem.badParameter("top", "top must be at least 1") }
            selection = .top(top)
        } else if let percent = options.topPercent {
            guard percent > 0, percent <= 100 else { throw APIProblem.badParameter("top_percent", "top_percent must be in (0, 100]") }
            selection = .topPercent(percent)
        } else {
            let minimum = options.minProbability!
            guard (0...1).contains(minimum) else { throw APIProblem.badParameter("min_probability", "min_probability must be in [0, 1]") }
            selection = .minProbability(minimum)
        }
        var settings = ExportSettings(campaign: options.campaign, channel: channel, selection: selection, territory: territory)
        settings.runID = options.run
        if let days = options.excludeContactedWithin {
            guard days >= 0 else { throw APIProblem.badParameter("exclude_contacted_within", "exclude_contacted_within must be 0 or more") }
            settings.excludeContactedWithinDays = days
        }
        settings.includeOnMarket = options.includeOnMarket ?? false
        if let percent = options.holdoutPercent, !HoldoutRequest.percentRange.contains(percent) {
            throw APIProblem.badParameter("holdout_percent", "holdout_percent must be a whole percent from 1 to 90")
        }
        if let seed = options.holdoutSeed, !HoldoutRequest.seedRange.contains(seed) {
            throw APIProblem.badParameter("holdout_seed", "holdout_seed must be from 0 to \(HoldoutRequest.seedRange.upperBound)")
        }
        if options.holdoutPercent != nil || options.holdoutSeed != nil {
            settings.holdout = HoldoutRequest(percent: options.holdoutPercent, seed: options.holdoutSeed)
        }
        if let format = options.format {
            guard let value = ExportFileFormat(rawValue: format) else { throw APIProblem.badParameter("format", "format must be csv or jsonl") }
            settings.format = value
        }
        if let ads = options.adsFormat {
            guard let value = AdsFormat(rawValue: ads) else { throw APIProblem.badParameter("ads_format", "ads_format must be meta or google") }
            settings.adsFormat = value
        }
        return settings
    }

    // MARK: Access

    /// The territory of the route's {name}, when the key may read it.
    private func allowedTerritory(_ context: APIContext) async throws -> TerritoryInfo {
        let key = try context.requireKey()
        let name = try Parameters.path(context, "name")
        // Not found and not allowed look alike to a limited key: it learns nothing of others' names.
        guard key.allows(territory: name), let territory = try await store.territories().first(where: { $0.name == name }) else {
            if key.territories.isEmpty { throw APIProblem.notFound("no territory named \(name)") }
            throw APIProblem.forbidden("this key may not read territory \(name)")
        }
        return territory
    }

    /// The run `id` of `territory` (one lookup by key: a cursor's run is read on every page), or
    /// its latest run; 404 when there is none.
    private func scoreRun(of territory: TerritoryInfo, id: Int64?) async throws -> ScoreRunRecord {
        guard let id else {
            guard let latest = try await store.scoreRuns(territory: territory.name, limit: 1).first else {
                throw APIProblem.notFound("territory \(territory.name) has no score run yet: run 'listwise score --territory \(territory.name)'")
            }
            return latest
        }
        let run: ScoreRunRecord?
        do {
            run = try await store.scoreRun(id: id, territory: nil)
        } catch ListwiseError.usage {
            run = nil   // no run with that id
        }
        guard let run, run.territory == territory.name else {
            throw APIProblem.notFound("territory \(territory.name) has no score run \(id)")
        }
        return run
    }

    /// The definitions of the key's territories; nil when the key may read every home.
    private func allowedDefinitions(_ key: APIKeyInfo) async throws -> [TerritoryDefinition]? {
        guard !key.territories.isEmpty else { return nil }
        return try await store.territories().filter { key.territories.contains($0.name) }.map(\.definition)
    }

    /// The home of the route's {id}, when the key may read it.
    private func allowedHome(_ context: APIContext) async throws -> (HomeDetail, APIKeyInfo) {
        let key = try context.requireKey()
        let id = try Parameters.path(context, "id")
        let detail = try await store.home(id: id, historyLimit: Self.historyLimit)
        if let definitions = try await allowedDefinitions(key) {
            guard let detail, definitions.contains(where: {
                $0.contains(zip: detail.property.zip, city: detail.property.city, latitude: detail.property.latitude,
                            longitude: detail.property.longitude)
            }) else {
                throw APIProblem.forbidden("this key may not read home \(id)")
            }
            return (detail, key)
        }
        guard let detail else { throw APIProblem.notFound("no home \(id)") }
        return (detail, key)
    }

    /// A limited key sees the scores of its territories' runs only.
    private func visibleScores(_ detail: HomeDetail, key: APIKeyInfo) -> [HomeRunScore] {
        detail.scores.filter { key.allows(territory: $0.territory) }
    }

    // MARK: Encoding

    private func json(_ value: some Encodable, _ context: APIContext) throws -> Response {
        let data = try context.responseEncoder.encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// An embeddable page: framed only by the origins the key allows (none: not framed at all).
    private func html(_ page: String, key: APIKeyInfo) -> Response {
        let ancestors = key.allowedOrigins.isEmpty ? "'none'" : key.allowedOrigins.joined(separator: " ")
        return Response(status: .ok, headers: [
            .contentType: "text/html; charset=utf-8",
            .contentSecurityPolicy: "frame-ancestors \(ancestors); default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            .cacheControl: "private, max-age=60",
        ], body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }
}

extension APIKeyInfo {
    /// Whether the key may read `territory` (a run or export of no territory: only unlimited keys).
    func allows(territory: String?) -> Bool {
        territories.isEmpty || territory.map(territories.contains) == true
    }
}

/// Query and path parameters into typed values; a bad one is a 400 naming it.
enum Parameters {
    static func integer(_ query: Hummingbird.Parameters, _ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = query.get(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIProblem.badParameter(name, "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    static func int64(_ query: Hummingbird.Parameters, _ name: String) throws -> Int64? {
        guard let text = query.get(name) else { return nil }
        guard let number = Int64(text), number > 0 else { throw APIProblem.badParameter(name, "\(name) must be a positive whole number") }
        return number
    }

    static func double(_ query: Hummingbird.Parameters, _ name: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let text = query.get(name) else { return nil }
        guard let number = Double(text), range.contains(number) else {
            throw APIProblem.badParameter(name, "\(name) must be a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    static func boolean(_ query: Hummingbird.Parameters, _ name: String) throws -> Bool? {
        guard let text = query.get(name) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw APIProblem.badParameter(name, "\(name) must be true or false")
        }
    }

    /// A path parameter, percent-decoded (the router hands them over as sent).
    static func path(_ context: APIContext, _ name: String) throws -> String {
        guard let raw = context.parameters.get(name), let value = raw.removingPercentEncoding, !value.isEmpty else {
            throw APIProblem.badParameter(name, "the path has no \(name)")
        }
        return value
    }
}
