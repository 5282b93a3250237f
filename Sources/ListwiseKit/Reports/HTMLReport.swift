// The territory report as one self-contained HTML page: inline SVG charts (ReportCharts.swift), the
// tier, reason and zip tables, and the top prospects. No scripts, no network resources.
import Foundation

public enum HTMLReport {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A table; cells are escaped, and columns whose header is in `numeric` are right-aligned.
    static func table(_ id: String, _ headers: [String], _ rows: [[String]], numeric: Set<Int> = []) -> String {
        func cells(_ values: [String], _ tag: String) -> String {
            values.enumerated().map { index, value in
                "<\(tag)\(numeric.contains(index) ? " class=\"n\"" : "")>\(escape(value))</\(tag)>"
            }.joined()
        }
        return "<table id=\"\(id)\"><tr>\(cells(headers, "th"))</tr>\n"
            + rows.map { "<tr>\(cells($0, "td"))</tr>\n" }.joined() + "</table>\n"
    }

    static func tierTable(_ report: TerritoryReport) -> String {
        let rows = report.tierRows.map { row in
            [row.tier, String(row.homes), String(format: "%.1f", row.expectedListings), String(format: "%.1f%%", 100 * row.share),
             row.lowestProbability.map { "\(percent($0)) to \(percent(row.highestProbability!))" } ?? ""]
        }
        return table("tiers", ["tier", "homes", "expected listings", "share of expected listings", "probability"], rows,
                     numeric: [1, 2, 3])
    }

    static func reasonTable(_ report: TerritoryReport) -> String {
        let reasons = report.highReasons()
        guard !reasons.isEmpty else { return "<p>No High homes with reasons in this run.</p>\n" }
        let rows = reasons.map { row in
            [row.kind, String(row.homes), String(format: "%.1f%%", 100 * row.share),
             row.lowest == row.highest ? row.lowest : "\(row.lowest) … \(row.highest)"]
        }
        return table("reasons", ["reason", "High homes", "share of High homes", "from … to"], rows, numeric: [1, 2])
    }

    static func zipTable(_ report: TerritoryReport) -> String {
        let rows = report.zipRows.map { row in
            [row.zip, String(row.homes), String(row.onMarket), String(format: "%.1f", row.expectedListings), String(row.highHomes)]
        }
        return table("zips", ["zip", "homes", "on the market", "expected listings", "High homes"], rows, numeric: [1, 2, 3, 4])
    }

    /// The model's out-of-time validation in the vendors' terms, when the report has it.
    static func modelLine(_ report: TerritoryReport) -> String {
        guard let auc = report.validationAUC else { return "" }
        var text = String(format: "Model validation (out of time): ROC AUC %.3f", auc)
        if let lifts = report.validationLift, !lifts.isEmpty { text += "; " + Metrics.liftPhrase(lifts) }
        return "<p class=\"model\">\(escape(text)).</p>"
    }

    public static func render(_ report: TerritoryReport) -> String {
        let top = report.homes.filter { $0.rank != nil }.sorted { $0.rank! < $1.rank! }.prefix(20).map { home in
            [String(home.rank!), home.address, home.zip, String(format: "%.1f%%", 100 * home.probability), home.tier ?? "",
             home.reasons.joined(separator: "; ")]
        }
        let deciles = report.deciles.map { band in
            [String(band.decile), String(band.homes), percent(band.minimum), percent(band.mean), percent(band.maximum)]
        }
        let validation = report.validation.map { gains($0) + calibration($0) }
            ?? "<p>The model file \(escape(report.run.modelFile)) could not be read: no validation charts.</p>"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(report.title))</title>
            <style>
            body { font-family: sans-serif; margin: 24px; color: #222; }
            table { border-collapse: collapse; margin: 8px 0 24px; }
            td, th { border: 1px solid #ddd; padding: 4px 8px; font-size: 13px; text-align: left; }
            td.n, th.n { text-align: right; }
            .charts { display: flex; flex-wrap: wrap; gap: 16px; margin: 8px 0 24px; }
            figure { margin: 0; width: 560px; }
            figcaption { font-size: 13px; color: #555; }
            .kpi { font-size: 20px; margin-right: 32px; }
            </style></head><body>
            <h1>\(escape(report.title))</h1>
            <p>Score run \(report.run.id) as of \(escape(report.run.asOf)), model \(escape(report.run.modelFile)), horizon \(report.run.horizonDays) days.</p>
            \(modelLine(report))
            <p><span class="kpi">Homes: <b>\(report.homes.count)</b></span><span class="kpi">On the market: <b>\(report.onMarket)</b></span>
            <span class="kpi">Expected listings: <b>\(String(format: "%.1f", report.expectedListings))</b></span></p>
            <h2>Tiers</h2>
            <p>Expected listings are the sum of the predicted probabilities of the tier's homes (homes on the market have no tier).</p>
            \(tierTable(report))
            <div class="charts">
            \(histogram(report.homes))
            \(map(report.homes))
            \(validation)
            </div>
            <h2>Most common reasons among High homes</h2>
            <p>Each home gives up to three reasons; phrases about the same feature ("owned 11 years", "owned 38 years") count as one kind.</p>
            \(reasonTable(report))
            <h2>By zip</h2>
            \(zipTable(report))
            <h2>Score distribution</h2>
            \(table("deciles", ["decile", "homes", "min", "mean", "max"], deciles, numeric: [0, 1, 2, 3, 4]))
            \(CampaignReport.html(report.campaigns))
            <h2>Top prospects</h2>
            \(table("top", ["rank", "address", "zip", "probability", "tier", "reasons"], top, numeric: [0, 3]))
            </body></html>
            """
    }
}
