// `GET /openapi.json`: the OpenAPI 3.1 document of the Data API, written by hand from the routes
// (Routes.swift) and resources (Resources.swift). A test checks its paths and methods against
// the router's and schemathesis (in .ci/run) checks the answers against its schemas.
import Foundation

enum OpenAPIDocument {
    static let json: Data = Data(text.utf8)

    private static func problems(_ statuses: [Int]) -> String {
        statuses.map { "\"\($0)\": {\"$ref\": \"#/components/responses/Problem\"}" }.joined(separator: ", ")
    }
    private static let common = problems([400, 401, 403, 404, 429])

    private static func ok(_ schema: String) -> String {
        "\"200\": {\"description\": \"OK\", \"content\": {\"application/json\": {\"schema\": {\"$ref\": \"#/components/schemas/\(schema)\"}}}}"
    }
    private static let html = "\"200\": {\"description\": \"An HTML page\", \"content\": {\"text/html\": {\"schema\": {\"type\": \"string\"}}}}"
    private static let name = "{\"name\": \"name\", \"in\": \"path\", \"required\": true, \"schema\": {\"type\": \"string\"}}"
    private static let id = "{\"name\": \"id\", \"in\": \"path\", \"required\": true, \"schema\": {\"type\": \"string\"}}"
    private static func limit(_ maximum: Int, _ standard: Int) -> String {
        "{\"name\": \"limit\", \"in\": \"query\", \"schema\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": \(maximum), \"default\": \(standard)}}"
    }
    private static let run = "{\"name\": \"run\", \"in\": \"query\", \"description\": \"A score run id of the territory (default: its latest).\", \"schema\": {\"type\": \"integer\", \"minimum\": 1}}"
    private static let htmlSecurity = "\"security\": [{\"bearer\": []}, {\"accessToken\": []}]"

    static let text = """
    {
      "openapi": "3.1.0",
      "info": {"title": "listwise Data API", "version": "1.0.0",
               "description": "Scores, homes, search and lists of a listwise store (SPEC §8). Send an API key as 'Authorization: Bearer <key>' (listwise apikey create)."},
      "servers": [{"url": "/"}],
      "security": [{"bearer": []}],
      "paths": {
        "/healthz": {"get": {"operationId": "health", "summary": "Liveness", "security": [],
          "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "const": "ok"}}}}}}}}},
        "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics", "security": [],
          "responses": {"200": {"description": "Prometheus text exposition", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "security": [],
          "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/v1/territories": {"get": {"operationId": "listTerritories", "summary": "The territories the key may read",
          "responses": {\(ok("TerritoryList")), \(common)}}},
        "/v1/territories/{name}": {"get": {"operationId": "getTerritory", "summary": "A territory: definition, home count, latest run",
          "parameters": [\(name)], "responses": {\(ok("Territory")), \(common)}}},
        "/v1/territories/{name}/scores": {"get": {"operationId": "listScores",
          "summary": "A page of a territory's scores from its latest run (or ?run=), in rank order, on-market homes last",
          "parameters": [\(name), \(run), \(limit(1000, 100)),
            {"name": "cursor", "in": "query", "description": "next_cursor of the previous page (bound to its run).", "schema": {"type": "string"}},
            {"name": "tier", "in": "query", "schema": {"type": "string", "enum": ["High", "Medium", "Low"]}},
            {"name": "zip", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{5}$"}},
            {"name": "min_probability", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 1}},
            {"name": "on_market", "in": "query", "schema": {"type": "boolean"}}],
          "responses": {\(ok("ScoresPage")), \(common)}}},
        "/v1/territories/{name}/exports": {"post": {"operationId": "createExport",
          "summary": "Export a list for a campaign (needs the export scope); records the contact history as listwise export does",
          "parameters": [\(name)],
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ExportRequest"}}}},
          "responses": {"200": {"description": "The list", "content": {"text/csv": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}}},
                        \(problems([400, 401, 403, 404, 409, 429]))}}},
        "/v1/territories/{name}/report.html": {"get": {"operationId": "territoryReport",
          "summary": "The territory's report as an HTML page, embeddable by the origins the key allows", \(htmlSecurity),
          "parameters": [\(name), \(run)], "responses": {\(html), \(common)}}},
        "/v1/homes/{id}": {"get": {"operationId": "getHome", "summary": "One home: attributes, latest score with reasons, score history",
          "parameters": [\(id)], "responses": {\(ok("Home")), \(common)}}},
        "/v1/homes/{id}/card.html": {"get": {"operationId": "homeCard", "summary": "One home's score card as an HTML page", \(htmlSecurity),
          "parameters": [\(id)], "responses": {\(html), \(common)}}},
        "/v1/search": {"get": {"operationId": "search", "summary": "Homes by address (and by people's names, with the export scope): prefix and typo tolerant",
          "parameters": [{"name": "q", "in": "query", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 200}}, \(limit(100, 20))],
          "responses": {\(ok("SearchResults")), \(common)}}},
        "/v1/runs": {"get": {"operationId": "listRuns", "summary": "Score runs, newest first",
          "parameters": [{"name": "territory", "in": "query", "schema": {"type": "string"}}, \(limit(1000, 100))],
          "responses": {\(ok("RunList")), \(common)}}},
        "/v1/models": {"get": {"operationId": "listModels", "summary": "The model files and their validation metrics",
          "responses": {\(ok("ModelList")), \(common)}}},
        "/v1/campaigns": {"get": {"operationId": "listCampaigns", "summary": "Campaigns and their exports' totals",
          "responses": {\(ok("CampaignList")), \(common)}}},
        "/v1/campaigns/{name}/results": {"get": {"operationId": "campaignResults",
          "summary": "A measured campaign: contacted against held-out homes by tier, with 95 % intervals (SPEC §11)",
          "parameters": [\(name), {"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date"},
            "description": "Count events up to this date (default: the newest event)."}],
          "responses": {\(ok("CampaignResults")), \(common)}}},
        "/v1/exports": {"get": {"operationId": "listExports", "summary": "Exports, newest first",
          "parameters": [\(limit(1000, 100))], "responses": {\(ok("ExportList")), \(common)}}}
      },
      "components": {
        "securitySchemes": {
          "bearer": {"type": "http", "scheme": "bearer", "description": "An API key from listwise apikey create."},
          "accessToken": {"type": "apiKey", "in": "query", "name": "access_token", "description": "The key in the URL, for the HTML views in an iframe."}
        },
        "responses": {
          "Problem": {"description": "A problem (RFC 9457)", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        },
        "schemas": {
          "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
            "instance": {"type": "string"}, "parameter": {"type": "string", "description": "The parameter at fault (400)."}}},
          "Run": {"type": "object", "required": ["id", "as_of", "horizon_days", "model_file", "model_fingerprint", "started_at", "finished_at", "homes", "on_market"],
            "properties": {"id": {"type": "integer"}, "territory": {"type": "string"}, "as_of": {"type": "string", "format": "date"},
              "horizon_days": {"type": "integer"}, "model_file": {"type": "string"}, "model_fingerprint": {"type": "string"},
              "started_at": {"type": "string", "format": "date-time"}, "finished_at": {"type": "string", "format": "date-time"},
              "homes": {"type": "integer"}, "on_market": {"type": "integer"}}},
          "RunList": {"type": "object", "required": ["runs"], "properties": {"runs": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}}}},
          "Territory": {"type": "object", "required": ["name", "kind", "definition", "created_at"], "properties": {
            "name": {"type": "string"}, "kind": {"type": "string", "enum": ["zips", "cities", "geojson", "radius"]},
            "definition": {"type": "object", "description": "{zips}, {cities}, {polygons: GeoJSON MultiPolygon coordinates} or {latitude, longitude, miles}",
              "properties": {"zips": {"type": "array", "items": {"type": "string"}}, "cities": {"type": "array", "items": {"type": "string"}},
                "polygons": {"type": "array"}, "latitude": {"type": "number"}, "longitude": {"type": "number"}, "miles": {"type": "number"}}},
            "created_at": {"type": "string", "format": "date-time"},
            "homes": {"type": "integer", "description": "Homes inside (one territory only)."},
            "latest_run": {"$ref": "#/components/schemas/Run"}}},
          "TerritoryList": {"type": "object", "required": ["territories"], "properties": {"territories": {"type": "array", "items": {"$ref": "#/components/schemas/Territory"}}}},
          "Score": {"type": "object", "required": ["property_id", "address", "zip", "probability", "on_market", "reasons"], "properties": {
            "property_id": {"type": "string"}, "address": {"type": "string"}, "zip": {"type": "string"},
            "probability": {"type": "number", "minimum": 0, "maximum": 1}, "rank": {"type": "integer", "minimum": 1},
            "percentile": {"type": "number"}, "tier": {"type": "string", "enum": ["High", "Medium", "Low"]},
            "on_market": {"type": "boolean"}, "reasons": {"type": "array", "items": {"type": "string"}}}},
          "ScoresPage": {"type": "object", "required": ["territory", "run", "homes"], "properties": {
            "territory": {"type": "string"}, "run": {"$ref": "#/components/schemas/Run"},
            "homes": {"type": "array", "items": {"$ref": "#/components/schemas/Score"}},
            "next_cursor": {"type": "string", "description": "Absent on the last page."}}},
          "HomeScore": {"type": "object", "required": ["run_id", "as_of", "probability", "on_market", "reasons"], "properties": {
            "run_id": {"type": "integer"}, "territory": {"type": "string"}, "as_of": {"type": "string", "format": "date"},
            "probability": {"type": "number", "minimum": 0, "maximum": 1}, "rank": {"type": "integer"}, "percentile": {"type": "number"},
            "tier": {"type": "string", "enum": ["High", "Medium", "Low"]}, "on_market": {"type": "boolean"},
            "reasons": {"type": "array", "items": {"type": "string"}}}},
          "Property": {"type": "object", "required": ["property_id", "address", "city", "state", "zip"], "properties": {
            "property_id": {"type": "string"}, "address": {"type": "string"}, "city": {"type": "string"}, "state": {"type": "string"},
            "zip": {"type": "string"}, "zip4": {"type": "string"}, "latitude": {"type": "number"}, "longitude": {"type": "number"},
            "property_type": {"type": "string"}, "bedrooms": {"type": "number"}, "bathrooms": {"type": "number"},
            "living_sqft": {"type": "integer"}, "lot_sqft": {"type": "integer"}, "year_built": {"type": "integer"},
            "assessed_value": {"type": "integer"}, "owner_occupied": {"type": "boolean"}}},
          "Person": {"type": "object", "required": ["prospect_id"], "properties": {
            "prospect_id": {"type": "string"}, "first_name": {"type": "string"}, "last_name": {"type": "string"},
            "email": {"type": "string"}, "phone": {"type": "string"}, "mailing_address": {"type": "string"},
            "mailing_city": {"type": "string"}, "mailing_state": {"type": "string"}, "mailing_zip": {"type": "string"}}},
          "Home": {"type": "object", "required": ["property", "scores"], "properties": {
            "property": {"$ref": "#/components/schemas/Property"},
            "people": {"type": "array", "description": "Only for keys with the export scope.", "items": {"$ref": "#/components/schemas/Person"}},
            "latest_score": {"$ref": "#/components/schemas/HomeScore"},
            "scores": {"type": "array", "items": {"$ref": "#/components/schemas/HomeScore"}}}},
          "SearchHit": {"type": "object", "required": ["property_id", "address", "city", "zip", "match"], "properties": {
            "property_id": {"type": "string"}, "address": {"type": "string"}, "city": {"type": "string"}, "zip": {"type": "string"},
            "latitude": {"type": "number"}, "longitude": {"type": "number"},
            "names": {"type": "array", "description": "Only for keys with the export scope.", "items": {"type": "string"}},
            "match": {"type": "string", "enum": ["exact", "typo"]}}},
          "SearchResults": {"type": "object", "required": ["query", "hits"], "properties": {
            "query": {"type": "string"}, "hits": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}}}},
          "Decile": {"type": "object", "required": ["decile", "rows", "positives", "mean_predicted", "observed_rate", "lift", "cumulative_capture"],
            "properties": {"decile": {"type": "integer"}, "rows": {"type": "integer"}, "positives": {"type": "number"},
              "mean_predicted": {"type": "number"}, "observed_rate": {"type": "number"}, "lift": {"type": "number"},
              "cumulative_capture": {"type": "number"}}},
          "Model": {"type": "object", "required": ["file", "created_at", "horizon_days", "training_as_of", "validation_as_of", "fingerprint", "metrics"],
            "properties": {"file": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}, "horizon_days": {"type": "integer"},
              "training_as_of": {"type": "array", "items": {"type": "string", "format": "date"}}, "validation_as_of": {"type": "string", "format": "date"},
              "fingerprint": {"type": "string"},
              "metrics": {"type": "object", "description": "Out-of-time validation at validation_as_of.",
                "required": ["rows", "positives", "expected_positives", "roc_auc", "pr_auc", "log_loss", "brier", "deciles"],
                "properties": {"rows": {"type": "integer"}, "positives": {"type": "number"}, "expected_positives": {"type": "number"},
                  "roc_auc": {"type": "number"}, "pr_auc": {"type": "number"}, "log_loss": {"type": "number"}, "brier": {"type": "number"},
                  "deciles": {"type": "array", "items": {"$ref": "#/components/schemas/Decile"}}}}}},
          "ModelList": {"type": "object", "required": ["models"], "properties": {"models": {"type": "array", "items": {"$ref": "#/components/schemas/Model"}}}},
          "Campaign": {"type": "object", "required": ["name", "created_at", "exports", "channels", "rows", "prospects"], "properties": {
            "name": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}, "exports": {"type": "integer"},
            "channels": {"type": "array", "items": {"type": "string"}}, "rows": {"type": "integer"}, "prospects": {"type": "integer"},
            "last_export_at": {"type": "string", "format": "date-time"}, "held_out": {"type": "integer"},
            "holdout_percent": {"type": "integer", "minimum": 1, "maximum": 90}}},
          "Interval": {"type": "object", "required": ["lower", "upper"], "properties": {"lower": {"type": "number"}, "upper": {"type": "number"}}},
          "GroupOutcome": {"type": "object", "required": ["homes", "listed", "sold", "listed_or_sold", "predicted", "listed_after_export"], "properties": {
            "homes": {"type": "integer"}, "listed": {"type": "integer"}, "sold": {"type": "integer"}, "listed_or_sold": {"type": "integer"},
            "rate": {"type": "number"}, "rate_interval": {"$ref": "#/components/schemas/Interval"}, "predicted": {"type": "number"},
            "listed_after_export": {"type": "integer"}}},
          "TierComparison": {"type": "object", "required": ["tier", "contacted", "held_out"], "properties": {
            "tier": {"type": "string"}, "contacted": {"$ref": "#/components/schemas/GroupOutcome"}, "held_out": {"$ref": "#/components/schemas/GroupOutcome"},
            "difference": {"type": "number"}, "difference_interval": {"$ref": "#/components/schemas/Interval"},
            "ratio": {"type": "number"}, "ratio_interval": {"$ref": "#/components/schemas/Interval"}}},
          "CampaignResults": {"type": "object", "required": ["campaign", "as_of", "elapsed_days", "tiers", "mixed_homes", "significant", "verdict"],
            "properties": {"campaign": {"type": "string"}, "as_of": {"type": "string", "format": "date"},
              "list_as_of": {"type": "string", "format": "date"}, "first_export": {"type": "string", "format": "date"},
              "elapsed_days": {"type": "integer"}, "horizon_days": {"type": "integer"}, "holdout_percent": {"type": "integer"},
              "tiers": {"type": "array", "items": {"$ref": "#/components/schemas/TierComparison"}}, "mixed_homes": {"type": "integer"},
              "significant": {"type": "boolean"}, "verdict": {"type": "string"}}},
          "CampaignList": {"type": "object", "required": ["campaigns"], "properties": {"campaigns": {"type": "array", "items": {"$ref": "#/components/schemas/Campaign"}}}},
          "Export": {"type": "object", "required": ["id", "campaign", "channel", "run_id", "selection", "exported_at", "rows", "prospects"], "properties": {
            "id": {"type": "integer"}, "campaign": {"type": "string"}, "channel": {"type": "string", "enum": ["mail", "email", "ads"]},
            "run_id": {"type": "integer"}, "territory": {"type": "string"}, "selection": {"type": "string"},
            "exported_at": {"type": "string", "format": "date-time"}, "rows": {"type": "integer"}, "prospects": {"type": "integer"}}},
          "ExportList": {"type": "object", "required": ["exports"], "properties": {"exports": {"type": "array", "items": {"$ref": "#/components/schemas/Export"}}}},
          "ExportRequest": {"type": "object", "required": ["channel", "campaign"], "description": "Exactly one of top, top_percent, min_probability.",
            "properties": {"channel": {"type": "string", "enum": ["mail", "email", "ads"]}, "campaign": {"type": "string", "minLength": 1},
              "top": {"type": "integer", "minimum": 1}, "top_percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
              "min_probability": {"type": "number", "minimum": 0, "maximum": 1}, "run": {"type": "integer", "minimum": 1},
              "exclude_contacted_within": {"type": "integer", "minimum": 0}, "include_on_market": {"type": "boolean"},
              "ads_format": {"type": "string", "enum": ["meta", "google"]}, "format": {"type": "string", "enum": ["csv", "jsonl"]},
              "holdout_percent": {"type": "integer", "minimum": 1, "maximum": 90,
                "description": "Hold out this percent of the eligible households or people as the campaign's control group (SPEC §11)."},
              "holdout_seed": {"type": "integer", "minimum": 0, "maximum": 2147483647}}}
        }
      }
    }
    """
}
