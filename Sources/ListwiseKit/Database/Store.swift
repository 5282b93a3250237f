// The storage boundary (SPEC §7): the product's operations on a store, whichever engine holds
// it. `AppDatabase` (SQLite, embedded) and `PostgresStore` (a shared server) implement them, each
// in the way that is fast in it; the commands see only a `Store`.
import Foundation
import Logging

public protocol Store: Sendable {
    /// Where the data live, for messages (a file path, or a server URL without its password).
    var storeDescription: String { get }

    // Loading rows
    func importFile(_ path: String, kind: ImportKind?, options: ImportOptions,
                    progress: ((ImportProgress) -> Void)?) async throws -> ImportSummary
    func dataCounts() async throws -> DataCounts
    func lastEventDay() async throws -> Int?
    func newestEventDay() async throws -> Int?

    // Territories
    func addTerritory(name: String, definition: TerritoryDefinition) async throws -> [String]
    func territories() async throws -> [TerritoryInfo]
    func territory(named name: String) async throws -> TerritoryInfo
    func removeTerritory(named name: String) async throws
    func territoryContents(_ definition: TerritoryDefinition) async throws -> TerritoryContents

    // Features and models: every home's history streamed in property order into the features
    func buildFeatures(_ settings: FeatureSettings, progress: ((Int) -> Void)?) async throws -> FeatureTable
    func trainModel(_ settings: TrainingSettings, progress: ((String) -> Void)?) async throws -> TrainingResult
    func evaluateModels(_ models: [LikelyToSellModel], asOfDay: Int?, marketRates: MarketRates) async throws -> [ModelMetrics]

    // Score runs: written as one transaction, read back by rank
    func score(model: LikelyToSellModel, settings: ScoreSettings) async throws -> ScoreRunSummary
    func scoreRun(id: Int64?, territory: String?) async throws -> ScoreRunRecord
    func scoredHomes(runID: Int64, limit: Int?) async throws -> [ScoredHome]
    /// One line when `run` is older than the newest model in `modelsFolder` or the newest import.
    func stalenessWarning(for run: ScoreRunRecord, modelsFolder: String) async throws -> String?

    // Exports: the list written or emitted and its contact history recorded, as one step
    func export(_ settings: ExportSettings, to path: String?, emit: (Data) throws -> Void) async throws -> PreparedExport

    // Reading back
    /// Identifiers of the schema migrations applied, in order.
    func appliedMigrations() async throws -> [String]
    func status(modelFile: String?, now: Date) async throws -> StatusReport
    func territoryReport(territory: String?, runID: Int64?) async throws -> TerritoryReport
    func campaigns() async throws -> [CampaignSummary]
    /// Campaign `name`'s contacted and held-out homes and their LISTING and SALE events after the
    /// list's as-of date, up to `asOfDay` (default: the newest event) (SPEC §11).
    func campaignResults(_ name: String, asOfDay: Int?) async throws -> CampaignResults
    /// Campaigns that hold out, newest export first (of runs of `territory` when given).
    func measuredCampaigns(territory: String?) async throws -> [String]
    /// Adds an opt-out file's emails, phones and addresses (validated whole) to the suppressions.
    func suppress(file path: String, now: Date) async throws -> SuppressSummary

    // API keys (the Data API): only a key's hash is stored
    func createAPIKey(name: String, scope: APIScope, territories: [String], allowedOrigins: [String], now: Date) async throws -> NewAPIKey
    func apiKeys() async throws -> [APIKeyInfo]
    func revokeAPIKey(named name: String, now: Date) async throws
    /// The active key whose secret is `secret`, if any.
    func apiKey(secret: String) async throws -> APIKeyInfo?

    // The Data API's reads (DataAPI.swift, Search.swift)
    /// Score runs, newest first, of `territory` when given.
    func scoreRuns(territory: String?, limit: Int) async throws -> [ScoreRunRecord]
    /// At most `limit` homes of a run in its order (rank, then on-market homes by property id),
    /// after `cursor` when given.
    func scoresPage(runID: Int64, filter: ScoreFilter, after cursor: ScoreCursor?, limit: Int) async throws -> [ScoredHome]
    /// One home with its people and its newest `historyLimit` scores; nil when there is none.
    func home(id: String, historyLimit: Int) async throws -> HomeDetail?
    /// Exports, newest first.
    func exports(limit: Int) async throws -> [ExportInfo]
    func searchIndexState() async throws -> SearchIndexState
    /// Rebuilds the search index from the homes and people, in one transaction; returns the homes.
    func rebuildSearchIndex(now: Date) async throws -> Int
    /// The index's words within one deletion of each of `words` (by symmetric deletion).
    func searchVariants(_ words: [String]) async throws -> [String: [String]]
    /// At most `SearchText.candidates` homes matching every term (prefix, synonyms, and typos
    /// when `typos`), best first; names always filled (the caller strips them).
    func searchIndex(_ terms: [SearchTerm], includeNames: Bool, typos: Bool) async throws -> [SearchHit]

    // Webhooks (SPEC §9): endpoints, the outbox of events (written inside the transactions of
    // score runs, exports and refreshes), and their deliveries (Webhooks.swift)
    /// Adds an endpoint; returns its id and its signing secret (shown once).
    func addWebhook(url: String, events: [WebhookEventType], territories: [String], allowHTTP: Bool, now: Date) async throws -> NewWebhook
    /// The endpoints not removed, by id.
    func webhooks() async throws -> [WebhookEndpoint]
    /// Removes endpoint `id`; its pending deliveries are cancelled.
    func removeWebhook(id: Int64, now: Date) async throws
    /// Queues a `ping` event for endpoint `id` alone; returns the event id.
    func queuePing(webhookID: Int64, now: Date) async throws -> String
    /// The head of each endpoint's queue (its oldest pending delivery) when it is due at `now`.
    func dueDeliveries(now: Date) async throws -> [DueDelivery]
    /// Records an attempt made at `at` and what became of it.
    func recordDeliveryAttempt(_ delivery: DueDelivery, outcome: DeliveryOutcome, at: Date) async throws
    /// Deliveries, newest event first (only the failed ones when `failedOnly`).
    func webhookDeliveries(failedOnly: Bool, limit: Int) async throws -> [WebhookDeliveryInfo]

    // Refresh: one at a time per store
    /// Takes the refresh lock, runs `body` (given the pid of a dead holder whose lock was taken
    /// over, when the store can tell), releases it; `ListwiseError.lockHeld` (exit 3) at once
    /// when another refresh holds it.
    func withRefreshLock<T>(now: Date, logger: Logger, _ body: (Int32?) async throws -> T) async throws -> T
    func startRefreshRun(at now: Date) async throws -> Int64
    func finishRefreshRun(_ id: Int64, status: String, report: RefreshReport, error: String?) async throws

    /// Releases the connection (a no-op for SQLite, whose pool closes with the value).
    func close() async
}

extension Store {
    /// Runs `body` on this store, then closes it, whether `body` returns or throws.
    public func closing<T>(_ body: (Self) async throws -> T) async throws -> T {
        do {
            let value = try await body(self)
            await close()
            return value
        } catch {
            await close()
            throw error
        }
    }
}

extension AppDatabase: Store {
    public var storeDescription: String { path }
    public func close() async {}
}

extension PostgresStore: Store {
    public var storeDescription: String { location.description }
}

/// Opens the store at `location`: the SQLite file (created when missing) or the server.
public func openStore(_ location: StoreLocation) async throws -> any Store {
    switch location {
    case .sqlite(let path): return try AppDatabase(path: path)
    case .postgres(let server): return try await PostgresStore.open(server)
    }
}
