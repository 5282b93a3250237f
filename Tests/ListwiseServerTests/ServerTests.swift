// The Data API over HTTP against a real SQLite store: every route, the keys' rules, pagination
// while a new run is written, problems, the rate limit, and the OpenAPI document against the router.
import Foundation
import Hummingbird
@testable import ListwiseKit
import Logging
import XCTest
@testable import ListwiseServer

final class ServerTests: ServerTestCase {
    func testEveryRouteAnswersWithItsResource() async throws {
        let store = try await sampleStore()
        let key = try await key(store, "full", scope: .export, origins: ["https://agent.example.com"])
        let api = try await startServer(store)
        let eastRun = try await store.scoreRun(id: nil, territory: "east")
        let ranked = try await store.scoredHomes(runID: eastRun.id, limit: nil)

        let health = try await api.get("/healthz")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(try health.json()["status"] as? String, "ok")

        let territories = try await api.get("/v1/territories", key: key).json()["territories"] as! [[String: Any]]
        XCTAssertEqual(territories.map { $0["name"] as? String }, ["east", "west"])
        XCTAssertEqual((territories[0]["latest_run"] as? [String: Any])?["id"] as? Int, Int(eastRun.id))
        XCTAssertEqual((territories[0]["definition"] as? [String: Any])?["zips"] as? [String], ["94500", "94503"])

        let east = try await api.get("/v1/territories/east", key: key).json()
        let contents = try await store.territoryContents(.zips(["94500", "94503"]))
        XCTAssertEqual(east["homes"] as? Int, contents.homes)
        XCTAssertEqual(east["kind"] as? String, "zips")

        let page = try await api.get("/v1/territories/east/scores?limit=5", key: key).json()
        let homes = page["homes"] as! [[String: Any]]
        XCTAssertEqual(homes.map { $0["property_id"] as? String }, ranked.prefix(5).map(\.propertyID))
        XCTAssertEqual(homes[0]["probability"] as! Double, ranked[0].probability, accuracy: 1e-15)
        XCTAssertEqual(homes[0]["reasons"] as? [String], [ranked[0].reason1, ranked[0].reason2, ranked[0].reason3].compactMap { $0 })
        XCTAssertEqual((page["run"] as? [String: Any])?["model_file"] as? String, "sample.json")
        XCTAssertNotNil(page["next_cursor"] as? String)

        let first = ranked[0].propertyID
        let home = try await api.get("/v1/homes/\(first)", key: key).json()
        XCTAssertEqual((home["property"] as? [String: Any])?["property_id"] as? String, first)
        XCTAssertEqual((home["latest_score"] as? [String: Any])?["run_id"] as? Int, Int(eastRun.id))
        XCTAssertEqual((home["scores"] as? [[String: Any]])?.count, 1)
        XCTAssertFalse((home["people"] as? [[String: Any]] ?? []).isEmpty, "an export key sees the home's people")

        let card = try await api.get("/v1/homes/\(first)/card.html", key: key)
        XCTAssertEqual(card.status, 200)
        XCTAssertTrue(card.headers["content-type"]?.hasPrefix("text/html") == true)
        XCTAssertTrue(card.text.contains(ranked[0].address.replacingOccurrences(of: "&", with: "&amp;")))

        let report = try await api.get("/v1/territories/east/report.html", key: key)
        XCTAssertEqual(report.status, 200)
        XCTAssertTrue(report.text.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(report.headers["content-security-policy"]?.contains("frame-ancestors https://agent.example.com;") == true)
        // An iframe cannot send headers: the HTML views take the key in the URL too.
        let framed = try await api.get("/v1/territories/east/report.html?access_token=\(key)")
        XCTAssertEqual(framed.status, 200)
        let tokenOnJSON = try await api.get("/v1/territories?access_token=\(key)")
        XCTAssertEqual(tokenOnJSON.status, 401, "only the HTML views take the key in the URL")

        let runs = try await api.get("/v1/runs", key: key).json()["runs"] as! [[String: Any]]
        XCTAssertEqual(runs.map { $0["territory"] as? String }, ["west", "east"])

        let models = try await api.get("/v1/models", key: key).json()["models"] as! [[String: Any]]
        let model = try LikelyToSellModel.load(path: sampleModel)
        let auc = try XCTUnwrap(models.first { $0["file"] as? String == "sample.json" }.flatMap { ($0["metrics"] as? [String: Any])?["roc_auc"] as? Double })
        XCTAssertEqual(auc, model.metrics.rocAUC, accuracy: 1e-15)

        let search = try await api.get("/v1/search?q=\(ranked[0].address.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", key: key)
        let hits = try search.json()["hits"] as! [[String: Any]]
        XCTAssertEqual(hits.first?["property_id"] as? String, first)

        // An export through the API is recorded as `listwise export` records it.
        let body = try JSONSerialization.data(withJSONObject: ["channel": "mail", "campaign": "api-mailer", "top": 25])
        let export = try await api.send("POST", "/v1/territories/east/exports", key: key, body: body)
        XCTAssertEqual(export.status, 200, export.text)
        XCTAssertTrue(export.headers["content-type"]?.hasPrefix("text/csv") == true)
        let lines = export.text.split(separator: "\n")
        XCTAssertEqual(lines.count, 26)
        XCTAssertEqual(export.headers["listwise-export-rows"], "25")
        let exports = try await api.get("/v1/exports", key: key).json()["exports"] as! [[String: Any]]
        XCTAssertEqual(exports.count, 1)
        XCTAssertEqual(exports.first?["rows"] as? Int, 25)
        XCTAssertEqual(exports.first?["territory"] as? String, "east")
        let campaigns = try await api.get("/v1/campaigns", key: key).json()["campaigns"] as! [[String: Any]]
        XCTAssertEqual(campaigns.map { $0["name"] as? String }, ["api-mailer"])
        // The history is the CLI's: the same households are skipped by the next list of the campaign.
        let again = try await api.send("POST", "/v1/territories/east/exports", key: key,
                                       body: try JSONSerialization.data(withJSONObject: ["channel": "mail", "campaign": "api-mailer", "top": 25,
                                                                                          "exclude_contacted_within": 30]))
        XCTAssertEqual(again.status, 200, again.text)
        XCTAssertTrue(Set(again.text.split(separator: "\n").dropFirst()).isDisjoint(with: Set(lines.dropFirst())))

        // A measured campaign through the API: a holdout drawn, and its results (SPEC §11).
        let measured = try await api.send("POST", "/v1/territories/east/exports", key: key,
                                          body: try JSONSerialization.data(withJSONObject: ["channel": "email", "campaign": "api-measured",
                                                                                             "top_percent": 100, "holdout_percent": 25, "holdout_seed": 4]))
        XCTAssertEqual(measured.status, 200, measured.text)
        let results = try await api.get("/v1/campaigns/api-measured/results", key: key)
        XCTAssertEqual(results.status, 200, results.text)
        let object = try results.json()
        XCTAssertEqual(object["holdout_percent"] as? Int, 25)
        let all = (object["tiers"] as? [[String: Any]])?.last
        XCTAssertGreaterThan((all?["held_out"] as? [String: Any])?["homes"] as? Int ?? 0, 0)
        let unknown = try await api.get("/v1/campaigns/nope/results", key: key)
        XCTAssertEqual(unknown.status, 404)
        let badDate = try await api.get("/v1/campaigns/api-measured/results?as_of=2025-99-01", key: key)
        XCTAssertEqual(badDate.status, 400)
        let badHoldout = try await api.send("POST", "/v1/territories/east/exports", key: key,
                                            body: try JSONSerialization.data(withJSONObject: ["channel": "mail", "campaign": "x", "top": 5,
                                                                                               "holdout_percent": 95]))
        XCTAssertEqual(badHoldout.status, 400, badHoldout.text)

        let metrics = try await api.get("/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.text.contains("listwise_http_requests_total{method=\"GET\",route=\"/v1/territories/{name}/scores\",status=\"200\"} 1"),
                      metrics.text)
        XCTAssertTrue(metrics.text.contains("listwise_http_request_duration_seconds_bucket"))
        XCTAssertTrue(metrics.text.contains("listwise_http_errors_total{status=\"401\"} 1"))
    }

    func testKeysSeeOnlyWhatTheirScopeAndTerritoriesAllow() async throws {
        let store = try await sampleStore()
        let reader = try await key(store, "reader")
        let exporter = try await key(store, "exporter", scope: .export)
        let eastOnly = try await key(store, "east-only", scope: .export, territories: ["east"])
        let revoked = try await key(store, "gone")
        let api = try await startServer(store)
        let westRun = try await store.scoreRun(id: nil, territory: "west")
        let westHome = try await store.scoredHomes(runID: westRun.id, limit: 1)[0].propertyID

        // No key, a wrong key, a revoked key: 401 with a problem document.
        let none = try await api.get("/v1/territories")
        XCTAssertEqual(none.status, 401)
        XCTAssertEqual(none.headers["content-type"], "application/problem+json")
        XCTAssertEqual(none.headers["www-authenticate"], "Bearer realm=\"listwise\"")
        XCTAssertEqual(try none.json()["status"] as? Int, 401)
        let value1 = try await api.get("/v1/territories", key: "lw_not-a-key").status
        XCTAssertEqual(value1, 401)
        let value2 = try await api.get("/v1/territories", key: revoked).status
        XCTAssertEqual(value2, 200)
        try await store.revokeAPIKey(named: "gone", now: Date())
        let value3 = try await api.get("/v1/territories", key: revoked).status
        XCTAssertEqual(value3, 401, "a revoked key stops at once")

        // A read key: no exports, no people, no names in search.
        let body = try JSONSerialization.data(withJSONObject: ["channel": "mail", "campaign": "c", "top": 5])
        let refused = try await api.send("POST", "/v1/territories/east/exports", key: reader, body: body)
        XCTAssertEqual(refused.status, 403)
        let value4 = try await store.campaigns().count
        XCTAssertEqual(value4, 0, "a refused export records nothing")
        let home = try await api.get("/v1/homes/\(westHome)", key: reader).json()
        XCTAssertNil(home["people"])
        let detail = try await store.home(id: westHome, historyLimit: 10)!
        let person = try XCTUnwrap(detail.prospects.first { $0.firstName != nil && $0.lastName != nil })
        // The person's name and the home's zip: an export key finds the home, a read key does not.
        let query = "\(person.firstName!) \(person.lastName!) \(detail.property.zip)".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let readerHits = try await api.get("/v1/search?q=\(query)&limit=100", key: reader).json()["hits"] as! [[String: Any]]
        XCTAssertTrue(readerHits.allSatisfy { $0["names"] == nil })
        XCTAssertFalse(readerHits.contains { $0["property_id"] as? String == westHome }, "a read key does not search names")
        let exporterHits = try await api.get("/v1/search?q=\(query)&limit=100", key: exporter).json()["hits"] as! [[String: Any]]
        let found = try XCTUnwrap(exporterHits.first { $0["property_id"] as? String == westHome }, "an export key finds homes by their people's names")
        XCTAssertTrue((found["names"] as? [String])?.contains("\(person.firstName!) \(person.lastName!)") == true)

        // A key limited to east: west is forbidden everywhere, never shown.
        let listed = try await api.get("/v1/territories", key: eastOnly).json()["territories"] as! [[String: Any]]
        XCTAssertEqual(listed.map { $0["name"] as? String }, ["east"])
        for path in ["/v1/territories/west", "/v1/territories/west/scores", "/v1/territories/west/report.html", "/v1/homes/\(westHome)",
                     "/v1/homes/\(westHome)/card.html", "/v1/runs?territory=west"] {
            let answer = try await api.get(path, key: eastOnly)
            XCTAssertEqual(answer.status, 403, path)
            XCTAssertEqual(answer.headers["content-type"], "application/problem+json", path)
        }
        let value5 = try await api.send("POST", "/v1/territories/west/exports", key: eastOnly, body: body).status
        XCTAssertEqual(value5, 403)
        let runs = try await api.get("/v1/runs", key: eastOnly).json()["runs"] as! [[String: Any]]
        XCTAssertEqual(runs.map { $0["territory"] as? String }, ["east"])
        let hits = try await api.get("/v1/search?q=street&limit=100", key: eastOnly).json()["hits"] as! [[String: Any]]
        XCTAssertFalse(hits.isEmpty)
        XCTAssertTrue(hits.allSatisfy { ["94500", "94503"].contains($0["zip"] as? String ?? "") }, "search hits stay inside the key's territories")
        let unlimited = try await api.get("/v1/search?q=street&limit=100", key: exporter).json()["hits"] as! [[String: Any]]
        XCTAssertTrue(unlimited.contains { !["94500", "94503"].contains($0["zip"] as? String ?? "") })
    }

    /// All pages of a territory, page by page, are the run's homes in `listwise scores` order
    /// (`Store.scoredHomes`, which `scores --format csv` prints), also when a refresh writes a new
    /// run between two pages: a cursor stays on its run.
    func testPagesOfScoresAreTheRunInOrderWhileANewRunIsWritten() async throws {
        let store = try await sampleStore()
        let key = try await key(store, "k")
        let api = try await startServer(store)
        let run = try await store.scoreRun(id: nil, territory: "east")
        let expected = try await store.scoredHomes(runID: run.id, limit: nil)
        XCTAssertTrue(expected.contains { $0.rank == nil }, "the sample has on-market homes, which come last")

        func allPages(_ query: String, limit: Int, midway: (() async throws -> Void)? = nil) async throws -> (ids: [String], runs: Set<Int>) {
            var ids: [String] = [], runs: Set<Int> = [], cursor: String?, pages = 0
            repeat {
                let suffix = cursor.map { "&cursor=\($0)" } ?? ""
                let page = try await api.get("/v1/territories/east/scores?limit=\(limit)\(query)\(suffix)", key: key)
                XCTAssertEqual(page.status, 200, page.text)
                let json = try page.json()
                ids += (json["homes"] as! [[String: Any]]).map { $0["property_id"] as! String }
                runs.insert((json["run"] as! [String: Any])["id"] as! Int)
                cursor = json["next_cursor"] as? String
                pages += 1
                if pages == 2, let midway { try await midway() }
            } while cursor != nil
            return (ids, runs)
        }

        var newRun: Int64?
        let paged = try await allPages("", limit: 333) {
            newRun = try await self.score(store, territory: "east").runID
        }
        XCTAssertEqual(paged.ids, expected.map(\.propertyID))
        XCTAssertEqual(paged.runs, [Int(run.id)])
        let fresh = try await api.get("/v1/territories/east/scores?limit=1", key: key).json()
        XCTAssertEqual((fresh["run"] as? [String: Any])?["id"] as? Int, newRun.map(Int.init), "a first page comes from the latest run")
        let old = try await allPages("&run=\(run.id)", limit: 1000)
        XCTAssertEqual(old.ids, expected.map(\.propertyID))

        // Filters page the same way.
        let high = try await allPages("&run=\(run.id)&tier=High", limit: 97)
        XCTAssertEqual(high.ids, expected.filter { $0.tier == "High" }.map(\.propertyID))
        let onMarket = try await allPages("&run=\(run.id)&on_market=true", limit: 10)
        XCTAssertEqual(onMarket.ids, expected.filter(\.onMarket).map(\.propertyID))
        let notOnMarket = try await allPages("&run=\(run.id)&on_market=false&zip=94503&min_probability=0.05", limit: 250)
        let likely = try await allPages("&run=\(run.id)&min_probability=0.1", limit: 50)
        XCTAssertEqual(likely.ids, expected.filter { $0.probability >= 0.1 }.map(\.propertyID))
        XCTAssertGreaterThan(likely.ids.count, 300, "several batches of the ranked read")
        XCTAssertEqual(notOnMarket.ids, expected.filter { !$0.onMarket && $0.zip == "94503" && $0.probability >= 0.05 }.map(\.propertyID))
    }

    func testBadRequestsAreProblemDocumentsNamingTheParameter() async throws {
        let store = try await sampleStore()
        let key = try await key(store, "k", scope: .export)
        let api = try await startServer(store)
        let west = try await store.scoreRun(id: nil, territory: "west")
        let eastPage = try await api.get("/v1/territories/east/scores?limit=2", key: key).json()
        let eastCursor = try XCTUnwrap(eastPage["next_cursor"] as? String)

        let cases: [(String, Int, String?)] = [
            ("/v1/territories/east/scores?limit=0", 400, "limit"),
            ("/v1/territories/east/scores?limit=1001", 400, "limit"),
            ("/v1/territories/east/scores?limit=ten", 400, "limit"),
            ("/v1/territories/east/scores?tier=high", 400, "tier"),
            ("/v1/territories/east/scores?zip=945", 400, "zip"),
            ("/v1/territories/east/scores?min_probability=2", 400, "min_probability"),
            ("/v1/territories/east/scores?on_market=yes", 400, "on_market"),
            ("/v1/territories/east/scores?cursor=%21%21", 400, "cursor"),
            ("/v1/territories/east/scores?cursor=\(eastCursor)&run=\(west.id)", 400, "cursor"),
            ("/v1/territories/east/scores?run=\(west.id)", 404, nil),
            ("/v1/territories/east/scores?run=0", 400, "run"),
            ("/v1/territories/nowhere/scores", 404, nil),
            ("/v1/homes/NO-SUCH-HOME", 404, nil),
            ("/v1/search", 400, "q"),
            ("/v1/search?q=%20%2C", 400, "q"),
            ("/v1/search?q=main&limit=101", 400, "limit"),
            ("/v1/no-such-route", 404, nil),
        ]
        for (path, status, parameter) in cases {
            let answer = try await api.get(path, key: key)
            XCTAssertEqual(answer.status, status, path)
            XCTAssertEqual(answer.headers["content-type"], "application/problem+json", path)
            let problem = try answer.json()
            XCTAssertEqual(problem["status"] as? Int, status, path)
            XCTAssertNotNil(problem["title"] as? String, path)
            XCTAssertTrue((problem["type"] as? String)?.hasPrefix("urn:listwise:problem:") == true, path)
            XCTAssertFalse((problem["detail"] as? String ?? "").isEmpty, path)
            XCTAssertEqual(problem["parameter"] as? String, parameter, path)
        }
        let bodies: [([String: Any], String)] = [
            (["campaign": "c", "top": 5], "channel"),
            (["channel": "fax", "campaign": "c", "top": 5], "channel"),
            (["channel": "mail", "campaign": "c"], "top"),
            (["channel": "mail", "campaign": "c", "top": 5, "min_probability": 0.1], "top"),
            (["channel": "mail", "campaign": "c", "top_percent": 0], "top_percent"),
            (["channel": "mail", "campaign": "c", "top": "five"], "top"),
            (["channel": "mail", "campaign": "c", "top": 5, "format": "xml"], "format"),
        ]
        for (body, parameter) in bodies {
            let answer = try await api.send("POST", "/v1/territories/east/exports", key: key, body: try JSONSerialization.data(withJSONObject: body))
            XCTAssertEqual(answer.status, 400, "\(body)")
            XCTAssertEqual(try answer.json()["parameter"] as? String, parameter, "\(body)")
        }
        let notJSON = try await api.send("POST", "/v1/territories/east/exports", key: key, body: Data("top=5".utf8))
        XCTAssertEqual(notJSON.status, 400)
        let wrongMethod = try await api.send("DELETE", "/v1/territories/east", key: key)
        XCTAssertTrue([404, 405].contains(wrongMethod.status))
        XCTAssertEqual(wrongMethod.headers["content-type"], "application/problem+json")
        let value6 = try await store.campaigns().count
        XCTAssertEqual(value6, 0)
    }

    func testTooManyRequestsForOneKeyAre429WithRetryAfter() async throws {
        let store = try await sampleStore()
        let busy = try await key(store, "busy")
        let calm = try await key(store, "calm")
        let api = try await startServer(store, rateLimit: 2)
        var statuses: [Int] = []
        var retryAfter: String?
        for _ in 0..<8 {
            let answer = try await api.get("/v1/runs", key: busy)
            statuses.append(answer.status)
            if answer.status == 429 { retryAfter = answer.headers["retry-after"] }
        }
        XCTAssertEqual(statuses.prefix(4), [200, 200, 200, 200], "a burst of twice the rate goes through")
        XCTAssertTrue(statuses.contains(429), "\(statuses)")
        XCTAssertEqual(retryAfter, "1")
        let value7 = try await api.get("/v1/runs", key: calm).status
        XCTAssertEqual(value7, 200, "the limit is per key")
        let value8 = try await api.get("/healthz").status
        XCTAssertEqual(value8, 200)
    }

    /// The OpenAPI document describes exactly the routes the router has.
    func testOpenAPIDocumentListsEveryRouteAndNoOther() async throws {
        let store = try AppDatabase(path: path("empty.db"))
        let router = APIServer.router(store: store, settings: ServeSettings(), metrics: APIMetrics(), logger: Logger(label: "test"))
        let routes = Set(router.routes.map { "\($0.method.rawValue.lowercased()) \($0.path.description)" })
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: OpenAPIDocument.json) as? [String: Any])
        XCTAssertEqual(document["openapi"] as? String, "3.1.0")
        let paths = try XCTUnwrap(document["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0) \(path)" } })
        XCTAssertEqual(documented, routes)
        XCTAssertEqual(routes.count, 16)
        // Every reference resolves.
        let schemas = try XCTUnwrap((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let text = String(decoding: OpenAPIDocument.json, as: UTF8.self)
        let references = text.components(separatedBy: "\"#/components/schemas/").dropFirst().map { $0.prefix { $0 != "\"" } }
        XCTAssertFalse(references.isEmpty)
        for reference in references { XCTAssertNotNil(schemas[String(reference)], String(reference)) }
        let api = try await startServer(store)
        let served = try await api.get("/openapi.json")
        XCTAssertEqual(served.body, OpenAPIDocument.json)
    }
}

final class ScoresPageJSONTests: XCTestCase {
    /// The hand-written page is the document JSONEncoder makes, escapes and absent fields included.
    func testTheHandWrittenPageParsesToJSONEncodersDocument() throws {
        let run = RunResource(ScoreRunRecord(id: 7, modelFile: "/m/model \"a\".json", modelFingerprint: "f", territory: nil, asOf: "2025-12-28",
                                             horizonDays: 365, startedAt: "2026-01-01T00:00:00.000Z", finishedAt: "2026-01-01T00:00:01.000Z",
                                             rows: 3, onMarket: 1, featureCounts: nil))
        let homes = [
            ScoredHome(propertyID: "P1", address: "1 \"Main\" St\\ \u{1}\n\tNúñez", zip: "94610", probability: 0.30538663977925107, rank: 1,
                       percentile: 99.9764982373678, tier: "High", onMarket: false, reason1: "owner aged 74", reason2: nil, reason3: "ñ"),
            ScoredHome(propertyID: "P2", address: "2 Oak", zip: "94611", probability: 1e-7, rank: nil, percentile: nil, tier: nil,
                       onMarket: true, reason1: nil, reason2: nil, reason3: nil),
        ]
        for next in [nil, "MTox"] as [String?] {
            let page = ScoresPageResource(territory: "east \"bay\"", run: run, homes: homes, nextCursor: next)
            let written = try JSONSerialization.jsonObject(with: Data(page.json())) as! NSDictionary
            let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(page)) as! NSDictionary
            XCTAssertEqual(written, encoded)
        }
    }
}
