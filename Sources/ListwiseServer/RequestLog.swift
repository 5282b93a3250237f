// One access-log line per request (swift-log: the CLI's handler writes logfmt or JSON) and the
// Prometheus counters and latency histogram behind `GET /metrics`. The outermost middleware, so
// that it sees every answer, problems and 404s included.
import Foundation
import Hummingbird
import Logging
import Prometheus
import Synchronization

/// The server's metrics: requests by route and status, latency by route, errors by status.
public final class APIMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    static let buckets: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                      .seconds(2.5), .seconds(5)]

    public init() {}

    /// The metrics of one (method, route, status), made once: the registry's lookup by name and
    /// labels took a lock and built the label strings on every request.
    private struct RouteMetrics {
        let requests: Counter
        let duration: DurationHistogram
        let errors: Counter?
    }
    private struct RouteKey: Hashable {
        let method: String, route: String, status: Int
    }
    private let known = Mutex<[RouteKey: RouteMetrics]>([:])

    func record(method: String, route: String, status: Int, duration: Duration) {
        let key = RouteKey(method: method, route: route, status: status)
        let metrics = known.withLock { known in
            if let metrics = known[key] { return metrics }
            let metrics = makeMetrics(key)
            known[key] = metrics
            return metrics
        }
        metrics.requests.increment()
        metrics.duration.record(duration)
        metrics.errors?.increment()
    }

    private func makeMetrics(_ key: RouteKey) -> RouteMetrics {
        let labels = [("method", key.method), ("route", key.route), ("status", String(key.status))]
        let requests = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "listwise", metricName: "http_requests", unitName: "total",
                                                                             helpText: "HTTP requests answered"), labels: labels)
        let duration = registry.makeDurationHistogram(descriptor: MetricNameDescriptor(namespace: "listwise", metricName: "http_request_duration",
                                                                                       unitName: "seconds", helpText: "Time to answer a request"),
                                                      labels: [("route", key.route)], buckets: Self.buckets)
        let errors = key.status >= 400
            ? registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "listwise", metricName: "http_errors", unitName: "total",
                                                                    helpText: "Answers with a 4xx or 5xx status"),
                                   labels: [("status", String(key.status))])
            : nil
        return RouteMetrics(requests: requests, duration: duration, errors: errors)
    }

    /// The Prometheus text exposition.
    public func text() -> String { registry.emitToString() }
}

struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let metrics: APIMetrics
    let logger: Logger

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // The problem middleware answers every error; this is only a safety net.
            response = ProblemMiddleware.response(ProblemMiddleware.internalError, request: request)
        }
        let duration = ContinuousClock.now - start
        // The route's template (bounded label values); unmatched paths share one label.
        let route = context.endpointPath ?? "unmatched"
        metrics.record(method: request.method.rawValue, route: route, status: response.status.code, duration: duration)
        response.headers[.init("X-Request-Id")!] = context.id
        let milliseconds = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "request_id": .string(context.id), "method": .string(request.method.rawValue), "path": .string(request.uri.path),
            "status": .stringConvertible(response.status.code), "duration_ms": .string(String(format: "%.2f", milliseconds)),
        ]
        if let key = context.caller.keyName { metadata["key"] = .string(key) }
        logger.info("request", metadata: metadata)
        return response
    }
}
