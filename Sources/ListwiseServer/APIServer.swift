// The Data API server (SPEC §8): `listwise serve`. Hummingbird 2 over the Store boundary, so
// it serves a SQLite file or a PostgreSQL store alike. Runs in the foreground as a
// ServiceGroup (the server, the search-index keeper and the webhook deliverer); SIGTERM or SIGINT stops taking
// connections, lets the requests in flight finish, then returns.
import Foundation
import Hummingbird
import ListwiseKit
import ListwiseWebhooks
import Logging
import ServiceLifecycle

public struct ServeSettings: Sendable {
    public var host = "127.0.0.1"
    /// 0: any free port (the tests' choice); `onRunning` is told which.
    public var port = 8080
    public var modelsFolder = "Models"
    /// Requests a second per key (bursts of twice as many); 0: no limit.
    public var rateLimitPerSecond = 100
    /// How often the search index is checked against the imports (rebuilt when they changed homes or people).
    public var searchIndexCheckSeconds = 30.0
    /// Webhook deliveries: the retry schedule, and how often the outbox is checked (seconds).
    public var webhookSchedule = RetrySchedule()
    public var webhookCheckSeconds = 1.0

    public init() {}
}

public enum APIServer {
    /// The routes (and their middleware) of the API over `store`.
    public static func router(store: any Store, settings: ServeSettings, metrics: APIMetrics, logger: Logger) -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: RequestLogMiddleware(metrics: metrics, logger: logger))
        router.add(middleware: ProblemMiddleware())
        router.get("healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}")))
        }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.text())))
        }
        router.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.json)))
        }
        let v1 = router.group("v1").add(middleware: AuthenticationMiddleware(store: store, limiter: RateLimiter(perSecond: settings.rateLimitPerSecond)))
        DataRoutes(store: store, modelsFolder: settings.modelsFolder).register(on: v1)
        return router
    }

    /// Serves until SIGTERM or SIGINT (or the task is cancelled); the search index is brought up
    /// to date first. `onRunning` gets the port the server listens on. `handleSignals` false (tests):
    /// only cancelling the task stops it.
    public static func run(store: any Store, settings: ServeSettings, logger: Logger, handleSignals: Bool = true,
                           onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let keeper = SearchIndexKeeper(store: store, every: settings.searchIndexCheckSeconds, logger: logger)
        try await keeper.update()
        let metrics = APIMetrics()
        let app = Application(
            router: router(store: store, settings: settings, metrics: metrics, logger: logger),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "listwise"),
            services: [keeper, WebhookService(store: store, schedule: settings.webhookSchedule, every: settings.webhookCheckSeconds,
                                              logger: logger)],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.port
                logger.info("serving", metadata: ["host": .string(settings.host), "port": .stringConvertible(port), "store": .string(store.storeDescription)])
                await onRunning(port)
            },
            logger: quietLogger(logger)
        )
        try await app.runService(gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [])
        logger.info("stopped")
    }

    /// Hummingbird's own logger: its per-request lines are ours (RequestLogMiddleware); it speaks
    /// only of warnings and errors.
    static func quietLogger(_ logger: Logger) -> Logger {
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        return quiet
    }
}

/// Keeps the search index in step with the imports: rebuilds it at start when it is missing
/// or older than the newest properties or prospects import, then checks every `every` seconds.
struct SearchIndexKeeper: Service {
    let store: any Store
    let every: Double
    let logger: Logger

    func update() async throws {
        let state = try await store.searchIndexState()
        guard state.isStale else { return }
        let start = ContinuousClock.now
        let homes = try await store.rebuildSearchIndex(now: Date())
        logger.info("search index built", metadata: ["homes": .stringConvertible(homes),
                                                     "seconds": .string(String(format: "%.1f", (ContinuousClock.now - start) / .seconds(1)))])
    }

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                // A graceful shutdown ends the wait at once (the server's stop must not wait for it).
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(every)) }
            } catch {
                return
            }
            do {
                try await update()
            } catch {
                logger.error("search index not rebuilt", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Delivers the webhook outbox while the server runs (a pass every `every` seconds); a graceful
/// shutdown ends the wait at once. A post in flight at shutdown is cancelled unrecorded: it goes
/// again on the next start (at least once).
struct WebhookService: Service {
    let store: any Store
    let schedule: RetrySchedule
    let every: Double
    let logger: Logger

    func run() async throws {
        let deliverer = WebhookDeliverer(store: store, schedule: schedule, logger: logger)
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                _ = try await cancelWhenGracefulShutdown { try await deliverer.deliverDue() }
            } catch {
                if !Task.isShuttingDownGracefully { logger.error("webhook delivery pass failed", metadata: ["error": "\(error)"]) }
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(every)) }
            } catch {
                break
            }
        }
        await deliverer.shutdown()
    }
}
