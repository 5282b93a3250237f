// A campaign's results as text (`listwise campaign results`) and as a section of the territory's
// HTML report: contacted and held-out homes by tier, the ratio and difference with their intervals.
import Foundation

public enum CampaignReport {
    static func percent(_ value: Double?) -> String { value.map { String(format: "%.1f %%", 100 * $0) } ?? "-" }
    static func rateText(_ group: GroupOutcome) -> String {
        guard let rate = group.rate else { return "-" }
        return percent(rate) + (group.rateInterval.map { String(format: " (%.1f to %.1f)", 100 * $0.lower, 100 * $0.upper) } ?? "")
    }
    static func ratioText(_ row: TierComparison) -> String {
        guard let ratio = row.ratio else { return "-" }
        return String(format: "%.2f", ratio) + (row.ratioInterval.map { String(format: " (%.2f to %.2f)", $0.lower, $0.upper) } ?? "")
    }
    static func differenceText(_ row: TierComparison) -> String {
        guard let difference = row.difference else { return "-" }
        return String(format: "%+.1f pts", 100 * difference)
            + (row.differenceInterval.map { String(format: " (%+.1f to %+.1f)", 100 * $0.lower, 100 * $0.upper) } ?? "")
    }

    /// The header line: the list's date, the window, the holdout.
    public static func heading(_ results: CampaignResults) -> String {
        var text = "campaign \(results.campaign): "
        if let listAsOf = results.listAsOf, let first = results.firstExport {
            text += "list as of \(listAsOf) (first export \(first)); events to \(results.asOf), \(results.elapsedDays) days"
            if let horizon = results.horizonDays { text += " of the \(horizon)-day horizon" }
        } else {
            text += "nothing exported yet"
        }
        if let percent = results.holdoutPercent { text += "; holdout \(percent) %" }
        return text
    }

    static func groupRows(_ results: CampaignResults) -> [[String]] {
        results.tiers.flatMap { row in
            [("contacted", row.contacted), ("held out", row.heldOut)].map { name, group in
                [row.tier, name, group.homes.grouped, group.listed.grouped, group.sold.grouped, group.listedOrSold.grouped, rateText(group),
                 String(format: "%.1f", group.predicted), group.listedAfterExport.grouped]
            }
        }
    }

    static let groupHeader = ["tier", "group", "homes", "listed", "sold", "listed or sold", "rate (95 % CI)", "predicted",
                              "listed after export"]
    static let comparisonHeader = ["tier", "ratio (95 % CI)", "difference (95 % CI)"]

    public static func text(_ results: CampaignResults) -> String {
        func table(_ header: [String], _ rows: [[String]], right: Set<Int>) -> [String] {
            let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
            return ([header] + rows).map { cells in
                let line = "  " + cells.enumerated().map { column, cell in
                    let fill = String(repeating: " ", count: widths[column] - cell.count)
                    return right.contains(column) ? fill + cell : cell + fill
                }.joined(separator: "  ")
                return String(line.reversed().drop { $0 == " " }.reversed())
            }
        }
        var lines = [heading(results), ""]
        lines += table(groupHeader, groupRows(results), right: [2, 3, 4, 5, 7, 8])
        lines += ["", "contacted against held out (listed or sold):"]
        lines += table(comparisonHeader, results.tiers.map { [$0.tier, ratioText($0), differenceText($0)] }, right: [])
        lines += ["", "rates: Wilson score intervals; ratio: Katz log interval by tier, Mantel-Haenszel over the tiers (Greenland-Robins);",
                  "difference: Newcombe's hybrid score interval; predicted: the run's probabilities pro-rated to the days elapsed."]
        if let line = calibrationLine(results) { lines += ["", line] }
        if results.mixedHomes > 0 { lines.append("\(results.mixedHomes.grouped) homes had a prospect contacted and another held out: counted as contacted.") }
        lines += ["", results.verdict]
        return lines.joined(separator: "\n")
    }

    /// The model in the field: the held-out homes (untouched by the campaign) against the run's
    /// predictions for them, pro-rated to the days elapsed.
    public static func calibrationLine(_ results: CampaignResults) -> String? {
        guard let heldOut = results.all?.heldOut, heldOut.homes > 0, heldOut.predicted > 0 else { return nil }
        return String(format: "the model in the field: held-out homes listed or sold %d times against %.1f predicted (%.2fx)",
                      heldOut.listedOrSold, heldOut.predicted, Double(heldOut.listedOrSold) / heldOut.predicted)
    }

    /// The HTML report's section: one table a campaign, and its verdict.
    static func html(_ campaigns: [CampaignResults]) -> String {
        guard !campaigns.isEmpty else { return "" }
        var html = "<h2>Measured campaigns</h2>\n<p>Homes contacted by a campaign against its randomly held-out homes of the same tiers: "
            + "listings and sales after the list's date (rates with Wilson 95\u{00A0}% intervals; ratio by Katz, over all tiers by "
            + "Mantel-Haenszel; difference by Newcombe).</p>\n"
        for results in campaigns {
            html += "<h3>\(HTMLReport.escape(results.campaign))</h3>\n<p>\(HTMLReport.escape(heading(results)))</p>\n"
            html += HTMLReport.table("campaign-\(results.campaign)", groupHeader, groupRows(results), numeric: [2, 3, 4, 5, 7, 8])
            html += "<p>Contacted against held out (listed or sold):</p>\n"
            html += HTMLReport.table("campaign-\(results.campaign)-ratio", comparisonHeader,
                                     results.tiers.map { [$0.tier, ratioText($0), differenceText($0)] })
            if let line = calibrationLine(results) { html += "<p>\(HTMLReport.escape(line.prefix(1).uppercased() + line.dropFirst())).</p>\n" }
            html += "<p class=\"verdict\"><b>\(HTMLReport.escape(results.verdict))</b></p>\n"
        }
        return html
    }
}
