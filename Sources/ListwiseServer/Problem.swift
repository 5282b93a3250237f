// Errors as RFC 9457 problem documents (type, title, status, detail), made in one middleware:
// a route throws an `APIProblem` (or a ListwiseError: a usage error is the caller's mistake, 400);
// anything else is a 500 whose detail says only that, logged with the request id.
import Foundation
import HTTPTypes
import Hummingbird
import ListwiseKit

public struct APIProblem: Error, Sendable {
    public var status: HTTPResponse.Status
    /// A short name of the kind of problem: the type is "urn:listwise:problem:<slug>".
    public var slug: String
    public var detail: String
    /// The query parameter or body field at fault, for 400s.
    public var parameter: String?
    public var headers: HTTPFields = [:]

    static func badParameter(_ parameter: String, _ detail: String) -> APIProblem {
        APIProblem(status: .badRequest, slug: "bad-parameter", detail: detail, parameter: parameter)
    }
    static func unauthorized(_ detail: String) -> APIProblem {
        APIProblem(status: .unauthorized, slug: "unauthorized", detail: detail,
                   headers: [.wwwAuthenticate: "Bearer realm=\"listwise\""])
    }
    static func forbidden(_ detail: String) -> APIProblem { APIProblem(status: .forbidden, slug: "forbidden", detail: detail) }
    static func notFound(_ detail: String) -> APIProblem { APIProblem(status: .notFound, slug: "not-found", detail: detail) }
}

/// The JSON of a problem document.
struct ProblemDocument: Codable {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var instance: String?
    var parameter: String?
}

struct ProblemMiddleware: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as APIProblem {
            return Self.response(problem, request: request)
        } catch let error as HTTPError {
            // The router's own: no route (404), a method the route does not take (405).
            let detail = error.status == .notFound ? "no such resource: \(request.uri.path)"
                : error.status == .methodNotAllowed ? "\(request.method) is not allowed on \(request.uri.path)"
                : error.body ?? error.status.reasonPhrase
            let slug = error.status == .notFound ? "not-found" : error.status == .methodNotAllowed ? "method-not-allowed" : "http"
            return Self.response(APIProblem(status: error.status, slug: slug, detail: detail, headers: error.headers), request: request)
        } catch let error as ListwiseError {
            switch error {
            case .usage(let message):
                return Self.response(APIProblem(status: .badRequest, slug: "bad-request", detail: message), request: request)
            case .lockHeld(let message):
                return Self.response(APIProblem(status: .conflict, slug: "busy", detail: message), request: request)
            default:
                context.logger.error("request failed", metadata: ["error": "\(error)"])
                return Self.response(Self.internalError, request: request)
            }
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            return Self.response(Self.internalError, request: request)
        }
    }

    static let internalError = APIProblem(status: .internalServerError, slug: "internal",
                                          detail: "the server could not answer; the error is in its log")

    static func response(_ problem: APIProblem, request: Request) -> Response {
        let document = ProblemDocument(type: "urn:listwise:problem:\(problem.slug)", title: problem.status.reasonPhrase,
                                       status: problem.status.code, detail: problem.detail, instance: request.uri.path,
                                       parameter: problem.parameter)
        var headers = problem.headers
        headers[.contentType] = "application/problem+json"
        let body = (try? APIJSON.encoder.encode(document)) ?? Data()
        return Response(status: problem.status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
