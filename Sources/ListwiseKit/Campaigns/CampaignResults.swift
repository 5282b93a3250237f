// `listwise campaign results` (SPEC §11): what a campaign's contacted and held-out homes did after
// the date of the list, by tier, with 95 % intervals, and the run's predicted listings beside them.
import Foundation

/// One row of a campaign's history as a store reads it: a prospect's home, whether it was held
/// out, and the export and score run it came from (the home's tier and probability in that run).
struct CampaignHistoryRow: Sendable {
    var propertyID: String
    var heldOut: Bool
    var exportID: Int64
    /// The export's day (UTC): the first contact, or the day the home was set aside.
    var exportedDay: Int
    var runAsOfDay: Int
    var horizonDays: Int
    var tier: String?
    var probability: Double?
    var holdoutPercent: Int?
}

/// A LISTING or SALE of a campaign's home dated after its list's as-of date.
struct CampaignOutcomeEvent: Sendable {
    var propertyID: String
    var isListing: Bool
    var day: Int
}

/// What one group of homes (contacted or held out, in a tier or in all) did in the window.
public struct GroupOutcome: Codable, Equatable, Sendable {
    public var homes = 0
    /// Homes with a LISTING, with a SALE, and with either (the model's target) in the window.
    public var listed = 0
    public var sold = 0
    public var listedOrSold = 0
    /// listedOrSold / homes, with its Wilson 95 % interval.
    public var rate: Double?
    public var rateInterval: Interval?
    /// The run's probabilities pro-rated to the days elapsed (probability × days / horizon, at most
    /// the whole probability): the listings (or sales) the model expects by now.
    public var predicted = 0.0
    /// Homes whose listing went to market on or after the day of the export (first contact, or
    /// the day the home was set aside), inside the window.
    public var listedAfterExport = 0

    public enum CodingKeys: String, CodingKey {
        case homes, listed, sold, listedOrSold = "listed_or_sold", rate, rateInterval = "rate_interval", predicted
        case listedAfterExport = "listed_after_export"
    }
}

/// Contacted against held-out homes in one tier (or in all of them).
public struct TierComparison: Codable, Equatable, Sendable {
    /// High, Medium, Low, "on market" (homes exported while listed), or "all".
    public var tier: String
    public var contacted: GroupOutcome
    public var heldOut: GroupOutcome
    /// Rate of contacted minus rate of held out (Newcombe's hybrid score interval).
    public var difference: Double?
    public var differenceInterval: Interval?
    /// Rate of contacted over rate of held out: Katz's log interval in a tier; over all tiers the
    /// Mantel–Haenszel ratio with the Greenland–Robins interval (stratified by tier, as drawn).
    public var ratio: Double?
    public var ratioInterval: Interval?

    public enum CodingKeys: String, CodingKey {
        case tier, contacted, heldOut = "held_out", difference, differenceInterval = "difference_interval", ratio
        case ratioInterval = "ratio_interval"
    }
}

public struct CampaignResults: Codable, Equatable, Sendable {
    public var campaign: String
    /// The end of the window (the newest event unless asked): events dated in (list as-of, asOf].
    public var asOf: String
    /// The as-of date of the score run of the campaign's first list, and the first export's day.
    public var listAsOf: String?
    public var firstExport: String?
    public var elapsedDays: Int
    public var horizonDays: Int?
    public var holdoutPercent: Int?
    /// Tiers best first, then "all".
    public var tiers: [TierComparison]
    /// Homes with both a contacted and a held-out prospect (counted as contacted).
    public var mixedHomes: Int
    /// Whether the ratio over all tiers has a 95 % interval that excludes 1.
    public var significant: Bool
    /// The result in plain words ("too early: 41 days, 12 listings").
    public var verdict: String

    public enum CodingKeys: String, CodingKey {
        case campaign, asOf = "as_of", listAsOf = "list_as_of", firstExport = "first_export", elapsedDays = "elapsed_days"
        case horizonDays = "horizon_days", holdoutPercent = "holdout_percent", tiers, mixedHomes = "mixed_homes", significant, verdict
    }

    public var all: TierComparison? { tiers.last { $0.tier == "all" } }
}

extension Store {
    /// The results of every campaign that holds out (exported from runs of `territory` when given).
    public func measuredCampaignResults(territory: String? = nil) async throws -> [CampaignResults] {
        var results: [CampaignResults] = []
        for name in try await measuredCampaigns(territory: territory) { results.append(try await campaignResults(name, asOfDay: nil)) }
        return results
    }
}

extension CampaignResults {
    static let tierOrder = ["High", "Medium", "Low", "on market"]

    /// The results of `campaign` from its history rows (in export order) and the LISTING and SALE
    /// events of its homes, counting events dated after each home's list as-of date up to `asOfDay`.
    static func compute(campaign: String, rows: [CampaignHistoryRow], events: [CampaignOutcomeEvent], asOfDay: Int) -> CampaignResults {
        // Each home: its first export decides its list (run, tier, probability, day); contacted
        // when any of its prospects was.
        struct Home { var first: CampaignHistoryRow; var contacted: Bool; var heldOut: Bool }
        var homes: [String: Home] = [:]
        var order: [String] = []
        for row in rows {
            if var home = homes[row.propertyID] {
                if row.heldOut { home.heldOut = true } else { home.contacted = true }
                homes[row.propertyID] = home
            } else {
                homes[row.propertyID] = Home(first: row, contacted: !row.heldOut, heldOut: row.heldOut)
                order.append(row.propertyID)
            }
        }
        var listings: [String: [Int]] = [:], sales: [String: [Int]] = [:]
        for event in events {
            if event.isListing { listings[event.propertyID, default: []].append(event.day) } else { sales[event.propertyID, default: []].append(event.day) }
        }
        var groups: [String: (contacted: GroupOutcome, heldOut: GroupOutcome)] = [:]
        for id in order {
            let home = homes[id]!, first = home.first
            // Events in the home's window (its list's as-of date, asOfDay].
            let inWindow = { (days: [Int]?) in (days ?? []).filter { $0 > first.runAsOfDay && $0 <= asOfDay } }
            let listed = inWindow(listings[id]), sold = inWindow(sales[id])
            func count(_ outcome: inout GroupOutcome) {
                outcome.homes += 1
                if !listed.isEmpty { outcome.listed += 1 }
                if !sold.isEmpty { outcome.sold += 1 }
                if !listed.isEmpty || !sold.isEmpty { outcome.listedOrSold += 1 }
                if listed.contains(where: { $0 >= first.exportedDay }) { outcome.listedAfterExport += 1 }
                if let p = first.probability, first.horizonDays > 0 {
                    outcome.predicted += p * min(1, Double(max(0, asOfDay - first.runAsOfDay)) / Double(first.horizonDays))
                }
            }
            let tier = first.tier ?? "on market"
            var pair = groups[tier] ?? (GroupOutcome(), GroupOutcome())
            if home.contacted { count(&pair.contacted) } else { count(&pair.heldOut) }
            groups[tier] = pair
        }
        var tiers: [TierComparison] = []
        var total = (contacted: GroupOutcome(), heldOut: GroupOutcome())
        for tier in tierOrder + groups.keys.filter({ !tierOrder.contains($0) }).sorted() {
            guard let pair = groups[tier] else { continue }
            tiers.append(comparison(tier: tier, pair.contacted, pair.heldOut))
            total.contacted.add(pair.contacted)
            total.heldOut.add(pair.heldOut)
        }
        var all = comparison(tier: "all", total.contacted, total.heldOut)
        let strata = tiers.map { ($0.contacted.listedOrSold, $0.contacted.homes, $0.heldOut.listedOrSold, $0.heldOut.homes) }
        if let pooled = CampaignStatistics.mantelHaenszelRatio(strata) {
            (all.ratio, all.ratioInterval) = (pooled.ratio, pooled.interval)
        } else {
            (all.ratio, all.ratioInterval) = (nil, nil)
        }
        tiers.append(all)

        let firstRow = rows.min { $0.exportID < $1.exportID }
        let listAsOf = rows.map(\.runAsOfDay).min()
        let elapsed = listAsOf.map { asOfDay - $0 } ?? 0
        let significant = all.ratioInterval.map { !$0.contains(1) } ?? false
        let mixed = homes.values.filter { $0.contacted && $0.heldOut }.count
        return CampaignResults(
            campaign: campaign, asOf: DayNumber.iso(asOfDay), listAsOf: listAsOf.map(DayNumber.iso),
            firstExport: firstRow.map { DayNumber.iso($0.exportedDay) }, elapsedDays: elapsed, horizonDays: firstRow?.horizonDays,
            holdoutPercent: rows.compactMap(\.holdoutPercent).first, tiers: tiers, mixedHomes: mixed, significant: significant,
            verdict: verdict(all: all, significant: significant, elapsed: elapsed, horizon: firstRow?.horizonDays, listAsOf: listAsOf))
    }

    static func comparison(tier: String, _ contacted: GroupOutcome, _ heldOut: GroupOutcome) -> TierComparison {
        var result = TierComparison(tier: tier, contacted: contacted.withRate(), heldOut: heldOut.withRate())
        let (a, n1, c, n2) = (contacted.listedOrSold, contacted.homes, heldOut.listedOrSold, heldOut.homes)
        if n1 > 0, n2 > 0 {
            result.difference = Double(a) / Double(n1) - Double(c) / Double(n2)
            result.differenceInterval = CampaignStatistics.differenceInterval(a: a, n1: n1, c: c, n2: n2)
        }
        if let ratio = CampaignStatistics.ratioInterval(a: a, n1: n1, c: c, n2: n2) {
            (result.ratio, result.ratioInterval) = (ratio.ratio, ratio.interval)
        }
        return result
    }

    static func verdict(all: TierComparison, significant: Bool, elapsed: Int, horizon: Int?, listAsOf: Int?) -> String {
        let events = all.contacted.listedOrSold + all.heldOut.listedOrSold
        let listings = "\(events) listing\(events == 1 ? "" : "s")"
        guard all.contacted.homes > 0 || all.heldOut.homes > 0 else { return "nothing exported yet" }
        guard all.heldOut.homes > 0 else { return "no holdout: nothing to compare with (export with --holdout to measure a campaign)" }
        guard all.contacted.homes > 0 else { return "no contacted homes yet" }
        guard elapsed > 0 else {
            return "no days since the list's date (\(listAsOf.map(DayNumber.iso) ?? "-")) yet: import newer events"
        }
        let days = "\(elapsed) day\(elapsed == 1 ? "" : "s")"
        let ratioText = all.ratio.map { ratio in
            String(format: "%.2fx", ratio) + (all.ratioInterval.map { String(format: " (95 %% CI %.2f to %.2f)", $0.lower, $0.upper) } ?? "")
        }
        if significant, let ratioText {
            return "contacted homes listed or sold at \(ratioText) the rate of held-out homes after \(days), \(listings): significant"
        }
        if let horizon, elapsed < horizon { return "too early: \(days), \(listings)" + (ratioText.map { "; ratio so far \($0)" } ?? "") }
        return "no significant difference after \(days), \(listings)" + (ratioText.map { "; ratio \($0)" } ?? "")
    }
}

extension GroupOutcome {
    mutating func add(_ other: GroupOutcome) {
        homes += other.homes
        listed += other.listed
        sold += other.sold
        listedOrSold += other.listedOrSold
        predicted += other.predicted
        listedAfterExport += other.listedAfterExport
    }

    func withRate() -> GroupOutcome {
        var copy = self
        copy.rate = homes > 0 ? Double(listedOrSold) / Double(homes) : nil
        copy.rateInterval = CampaignStatistics.wilson(successes: listedOrSold, trials: homes)
        return copy
    }
}

extension CampaignStatistics {
    /// The Mantel–Haenszel risk ratio over strata (a, n1, c, n2) — events and homes of the
    /// contacted, then of the held-out — with the Greenland–Robins (1985) variance of its log:
    /// RR = Σ a·n2/N ÷ Σ c·n1/N, Var(ln RR) = Σ (n1·n2·(a+c) − a·c·N)/N² ÷ (Σ a·n2/N · Σ c·n1/N).
    /// With one stratum it is Katz's interval. Strata missing either group add nothing; nil when
    /// either sum is 0.
    static func mantelHaenszelRatio(_ strata: [(a: Int, n1: Int, c: Int, n2: Int)], z: Double = z95)
        -> (ratio: Double, interval: Interval)? {
        var r = 0.0, s = 0.0, v = 0.0
        for (a, n1, c, n2) in strata where n1 > 0 && n2 > 0 {
            let (a, n1, c, n2) = (Double(a), Double(n1), Double(c), Double(n2))
            let n = n1 + n2
            r += a * n2 / n
            s += c * n1 / n
            v += (n1 * n2 * (a + c) - a * c * n) / (n * n)
        }
        guard r > 0, s > 0 else { return nil }
        let ratio = r / s
        let se = (v / (r * s)).squareRoot()
        return (ratio, Interval(lower: ratio * exp(-z * se), upper: ratio * exp(z * se)))
    }
}
