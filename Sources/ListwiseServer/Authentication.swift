// Keys on the /v1 routes: `Authorization: Bearer <key>` (or `?access_token=` on the embeddable
// HTML views, which an iframe cannot send headers for), looked up by hash in the store on every
// request (a revoked key stops at once), then a per-key request rate.
import Foundation
import Hummingbird
import ListwiseKit
import Synchronization

struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let store: any Store
    let limiter: RateLimiter

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard let secret = Self.secret(request) else {
            throw APIProblem.unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
        }
        guard let key = try await store.apiKey(secret: secret) else {
            throw APIProblem.unauthorized("the API key is not valid (unknown or revoked)")
        }
        var context = context
        context.key = key
        if let wait = limiter.take(key.name) {
            var problem = APIProblem(status: .tooManyRequests, slug: "rate-limited",
                                     detail: "too many requests for key \(key.name): at most \(limiter.perSecond) a second")
            problem.headers[.retryAfter] = String(wait)
            throw problem
        }
        return try await next(request, context)
    }

    static func secret(_ request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            // Not Foundation's trimmingCharacters: it bridges through NSString (~2 % of a request).
            var secret = parts[1]
            while secret.first == " " || secret.first == "\t" { secret.removeFirst() }
            while secret.last == " " || secret.last == "\t" { secret.removeLast() }
            return String(secret)
        }
        if request.uri.path.hasSuffix(".html"), let token = request.uri.queryParameters.get("access_token") {
            return token
        }
        return nil
    }
}

/// A token bucket per key: `perSecond` requests a second on average, bursts of twice that.
final class RateLimiter: Sendable {
    let perSecond: Int
    private let buckets = Mutex<[String: (tokens: Double, at: ContinuousClock.Instant)]>([:])

    /// `perSecond` 0: no limit.
    init(perSecond: Int) { self.perSecond = perSecond }

    /// nil when the request may go; else the whole seconds to wait.
    func take(_ key: String, now: ContinuousClock.Instant = .now) -> Int? {
        guard perSecond > 0 else { return nil }
        let rate = Double(perSecond), capacity = 2 * Double(perSecond)
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? (capacity, now)
            let elapsed = now - bucket.at
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket = (min(capacity, bucket.tokens + seconds * rate), now)
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
        }
    }
}
