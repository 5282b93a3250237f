// The territory report as one self-contained HTML page: inline SVG, no scripts, no network.
import Foundation

public enum HTMLReport {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Score colour from green (low) through yellow to red (high), for probability rank `t` in 0...1.
    static func color(_ t: Double) -> String {
        let x = min(max(t, 0), 1)
        let r = Int(255 * min(1, 2 * x)), g = Int(255 * min(1, 2 * (1 - x))) * 3 / 4
        return String(format: "#%02x%02x30", r, g)
    }

    static func frame(width: Int, height: Int, title: String, _ body: String) -> String {
        """
        <figure><svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" role="img" aria-label="\(escape(title))">
        <rect x="0" y="0" width="\(width)" height="\(height)" fill="#ffffff" stroke="#cccccc"/>
        \(body)</svg><figcaption>\(escape(title))</figcaption></figure>
        """
    }

    static func histogram(_ homes: [TerritoryReport.Home]) -> String {
        let probabilities = homes.filter { !$0.onMarket }.map(\.probability)
        let top = max(probabilities.max() ?? 1, 1e-9)
        let bins = 20
        var counts = [Int](repeating: 0, count: bins)
        for p in probabilities { counts[min(bins - 1, Int(Double(bins) * p / top))] += 1 }
        let highest = max(counts.max() ?? 1, 1)
        var body = ""
        for (i, count) in counts.enumerated() {
            let height = 220.0 * Double(count) / Double(highest)
            body += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"%.1f\" fill=\"%@\"/>", 40 + Double(i) * 25,
                           250 - height, height, color(Double(i) / Double(bins - 1)))
        }
        body += "<line x1=\"38\" y1=\"250\" x2=\"545\" y2=\"250\" stroke=\"#333\"/>"
        body += String(format: "<text x=\"40\" y=\"270\" font-size=\"12\">0%%</text><text x=\"505\" y=\"270\" font-size=\"12\">%.0f%%</text>", 100 * top)
        body += "<text x=\"5\" y=\"30\" font-size=\"12\">\(highest)</text>"
        return frame(width: 560, height: 285, title: "Score histogram: homes by predicted probability of listing", body)
    }

    static func gains(_ deciles: [DecileRow]) -> String {
        var points = "50,250"
        for d in deciles { points += String(format: " %.1f,%.1f", 50 + 45 * Double(d.decile), 250 - 220 * d.cumulativeCapture) }
        var body = "<polyline points=\"50,250 500,30\" fill=\"none\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>"
        body += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"3\"/>"
        for d in deciles {
            body += String(format: "<text x=\"%.1f\" y=\"270\" font-size=\"11\">%d</text>", 46 + 45 * Double(d.decile), d.decile * 10)
        }
        body += "<text x=\"5\" y=\"35\" font-size=\"11\">100%</text><text x=\"200\" y=\"284\" font-size=\"11\">% of homes contacted (by score)</text>"
        return frame(width: 560, height: 290, title: "Gains: share of listings captured (model validation)", body)
    }

    static func calibration(_ deciles: [DecileRow]) -> String {
        let top = max(deciles.map { max($0.meanPredicted, $0.observedRate) }.max() ?? 1, 1e-9)
        func x(_ v: Double) -> Double { 50 + 450 * v / top }
        func y(_ v: Double) -> Double { 250 - 220 * v / top }
        var body = String(format: "<line x1=\"50\" y1=\"250\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>", x(top), y(top))
        for d in deciles {
            body += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"#2c7fb8\"/>", x(d.meanPredicted), y(d.observedRate))
        }
        body += String(format: "<text x=\"200\" y=\"275\" font-size=\"11\">predicted (0 to %.0f%%)</text><text x=\"5\" y=\"35\" font-size=\"11\">observed</text>", 100 * top)
        return frame(width: 560, height: 285, title: "Calibration by decile: predicted vs observed (model validation)", body)
    }

    static func map(_ homes: [TerritoryReport.Home]) -> String {
        let located = homes.filter { $0.latitude != nil && $0.longitude != nil }
        guard !located.isEmpty else { return "<p>No homes with coordinates to map.</p>" }
        let lats = located.map { $0.latitude! }, lons = located.map { $0.longitude! }
        let south = lats.min()!, north = lats.max()!, west = lons.min()!, east = lons.max()!
        let spanX = max(east - west, 1e-6), spanY = max(north - south, 1e-6)
        let ranked = located.sorted { $0.probability < $1.probability }
        var body = ""
        for (i, home) in ranked.enumerated() {
            let x = 20 + 520 * (home.longitude! - west) / spanX, y = 400 - 380 * (home.latitude! - south) / spanY
            let fill = home.onMarket ? "#555555" : color(Double(i) / Double(max(ranked.count - 1, 1)))
            body += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%@\"/>", x, y, fill)
        }
        return frame(width: 560, height: 420, title: "Map: homes coloured by score (red high, green low, grey on the market)", body)
    }

    public static func render(_ report: TerritoryReport) -> String {
        let top = report.homes.filter { $0.rank != nil }.sorted { $0.rank! < $1.rank! }.prefix(20)
        var rows = ""
        for home in top {
            rows += "<tr><td>\(home.rank!)</td><td>\(escape(home.address))</td><td>\(escape(home.zip))</td>"
                + String(format: "<td>%.1f%%</td>", 100 * home.probability)
                + "<td>\(escape(home.tier ?? ""))</td><td>\(escape(home.reasons.joined(separator: "; ")))</td></tr>\n"
        }
        var deciles = ""
        for band in report.deciles {
            deciles += String(format: "<tr><td>%d</td><td>%d</td><td>%.2f%%</td><td>%.2f%%</td><td>%.2f%%</td></tr>\n",
                              band.decile, band.homes, 100 * band.minimum, 100 * band.mean, 100 * band.maximum)
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
            figure { display: inline-block; margin: 8px 16px 16px 0; vertical-align: top; }
            figcaption { font-size: 13px; color: #555; }
            .kpi { font-size: 20px; margin-right: 32px; }
            </style></head><body>
            <h1>\(escape(report.title))</h1>
            <p>Score run \(report.run.id) as of \(escape(report.run.asOf)), model \(escape(report.run.modelFile)), horizon \(report.run.horizonDays) days.</p>
            <p><span class="kpi">Homes: <b>\(report.homes.count)</b></span><span class="kpi">On the market: <b>\(report.onMarket)</b></span>
            <span class="kpi">Expected listings: <b>\(String(format: "%.1f", report.expectedListings))</b></span></p>
            \(histogram(report.homes))
            \(map(report.homes))
            \(validation)
            <h2>Score distribution</h2>
            <table><tr><th>decile</th><th>homes</th><th>min</th><th>mean</th><th>max</th></tr>
            \(deciles)</table>
            <h2>Top prospects</h2>
            <table><tr><th>rank</th><th>address</th><th>zip</th><th>probability</th><th>tier</th><th>reasons</th></tr>
            \(rows)</table>
            </body></html>
            """
    }
}
