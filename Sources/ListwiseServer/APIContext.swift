// What a request carries through the middleware to its route: the caller's key, once the
// authentication middleware has found it.
import Foundation
import Hummingbird
import ListwiseKit
import Synchronization

public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller's key; nil on the routes that need none (/healthz, /metrics, /openapi.json).
    public var key: APIKeyInfo? {
        didSet { caller.withLock { $0 = key?.name } }
    }
    /// The key's name, seen by the access log, which wraps the middleware that finds the key
    /// (a context is a value: the outer middleware's copy does not see the inner one's changes).
    let caller = Caller()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    public var responseEncoder: JSONEncoder { APIJSON.encoder }

    /// The key, which the authentication middleware guarantees on every /v1 route.
    func requireKey() throws -> APIKeyInfo {
        guard let key else { throw APIProblem.unauthorized("an API key is required: send 'Authorization: Bearer <key>'") }
        return key
    }
}

enum APIJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()
}

final class Caller: Sendable {
    private let name = Mutex<String?>(nil)
    func withLock<T>(_ body: (inout String?) -> T) -> T { name.withLock { body(&$0) } }
    var keyName: String? { name.withLock { $0 } }
}
