// One access-log line per request (swift-log: the CLI's handler writes logfmt or JSON) and the
// Prometheus counters and latency histogram behind `GET /metrics`. The outermost middleware, so
// that it sees every answer, problems and 404s included.
import Foundation
import Hummingbird
import Logging
import Prometheus

/// The server's metrics: requests by route and status, latency by route, errors by status.
public final class APIMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    static let buckets: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                      .seconds(2.5), .seconds(5)]

    public init() {}

    func record(method: String, route: String, status: Int, duration: Duration) {
        let labels = [("method", method), ("route", route), ("status", String(status))]
        registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "listwise", metricName: "http_requests", unitName: "total",
                                                              helpText: "HTTP requests answered"), labels: labels).increment()
        registry.makeDurationHistogram(descriptor: MetricNameDescriptor(namespace: "listwise", metricName: "http_request_duration",
                                                                        unitName: "seconds", helpText: "Time to answer a request"),
                                       labels: [("route", route)], buckets: Self.buckets).record(duration)
        if status >= 400 {
            registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "listwise", metricName: "http_errors", unitName: "total",
                                                                  helpText: "Answers with a 4xx or 5xx status"),
                                 labels: [("status", String(status))]).increment()
        }
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
