// One home's score card as a small self-contained HTML page (the Data API's
// `GET /v1/homes/{id}/card.html`, embeddable in an iframe): address, latest score, tier and
// reasons, and the score history. The home's people only when `people` is given (PII).
import Foundation

public enum HomeCard {
    public static func render(_ home: HomeDetail, people: [HomeProspect]?) -> String {
        let property = home.property
        let e = HTMLReport.escape
        let latest = home.scores.first
        let facts = [
            ("Type", property.propertyType), ("Bedrooms", property.bedrooms.map { String(format: "%g", $0) }),
            ("Bathrooms", property.bathrooms.map { String(format: "%g", $0) }), ("Living area", property.livingSqft.map { "\($0) sq ft" }),
            ("Year built", property.yearBuilt.map(String.init)), ("Assessed value", property.assessedValue.map { "$\($0)" }),
        ].compactMap { label, value in value.map { "<tr><th>\(label)</th><td>\(e($0))</td></tr>" } }.joined()
        let score = latest.map { score in
            """
            <p class="score"><span class="p">\(String(format: "%.1f%%", 100 * score.probability))</span> likely to sell within the \
            horizon \(score.tier.map { "· <span class=\"tier\">\(e($0))</span>" } ?? "")\
            \(score.onMarket ? " · on the market" : "")\(score.rank.map { " · rank \($0)" } ?? "")</p>
            <p class="meta">Score run \(score.runID), as of \(e(score.asOf))\(score.territory.map { ", territory \(e($0))" } ?? "")</p>
            \(score.reasons.isEmpty ? "" : "<ul id=\"reasons\">" + score.reasons.map { "<li>\(e($0))</li>" }.joined() + "</ul>")
            """
        } ?? "<p>No score for this home yet.</p>"
        let history = home.scores.isEmpty ? "" : HTMLReport.table("history", ["run", "as of", "probability", "tier", "rank"], home.scores.map {
            [String($0.runID), $0.asOf, String(format: "%.2f%%", 100 * $0.probability), $0.tier ?? "", $0.rank.map(String.init) ?? ""]
        }, numeric: [0, 2, 4])
        let peopleRows = (people ?? []).map { person in
            [[person.firstName, person.lastName].compactMap { $0 }.joined(separator: " "), person.email ?? "", person.phone ?? ""]
        }
        let peopleTable = people == nil || peopleRows.isEmpty ? "" : "<h2>People</h2>\n" + HTMLReport.table("people", ["name", "email", "phone"], peopleRows)
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(e(property.address))</title>
            <style>body{font-family:system-ui,sans-serif;margin:1rem;color:#222}h1{font-size:1.2rem;margin:0}
            .p{font-size:1.6rem;font-weight:600}.meta{color:#666;font-size:.85rem}table{border-collapse:collapse;margin:.5rem 0}
            th,td{padding:.15rem .6rem;text-align:left;border-bottom:1px solid #eee}.n{text-align:right}</style></head>
            <body>
            <h1>\(e(property.address))</h1>
            <p class="meta">\(e(property.city)), \(e(property.state)) \(e(property.zip)) · \(e(property.propertyID))</p>
            \(score)
            <table id="facts">\(facts)</table>
            \(history)
            \(peopleTable)
            </body></html>
            """
    }
}
