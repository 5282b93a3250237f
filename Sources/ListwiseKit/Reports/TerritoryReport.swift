// The territory report (SPEC §3): text summary and a self-contained HTML page with inline SVG
// charts (score histogram, gains and calibration from the model's validation, a map).
import Foundation

public struct TerritoryReport: Sendable {
    public struct Home: Sendable {
        public var propertyID: String, address: String, zip: String
        public var probability: Double
        public var rank: Int?
        public var tier: String?
        public var onMarket: Bool
        public var reasons: [String]
        public var latitude: Double?, longitude: Double?
    }

    public struct DecileBand: Sendable {
        public var decile: Int, homes: Int
        public var minimum: Double, maximum: Double, mean: Double
    }

    public var run: ScoreRunRecord
    public var title: String
    public var homes: [Home]
    /// The model's validation deciles (gains and calibration), when its file can be read.
    public var validation: [DecileRow]?
    /// The model's out-of-time ROC AUC and top lifts, when its file can be read (and has them).
    public var validationAUC: Double?
    public var validationLift: [TopLift]?
    /// Results of the campaigns that hold out, exported from runs of this territory (SPEC §11).
    public var campaigns: [CampaignResults] = []
    public var onMarket: Int { homes.filter(\.onMarket).count }
    public var expectedListings: Double { homes.filter { !$0.onMarket }.reduce(0) { $0 + $1.probability } }

    /// Ranked homes in ten bands of equal size, highest first.
    public var deciles: [DecileBand] {
        let ranked = homes.filter { !$0.onMarket }.sorted { $0.probability > $1.probability }
        let n = ranked.count
        return (0..<10).compactMap { d in
            let slice = ranked[(d * n / 10)..<((d + 1) * n / 10)]
            guard !slice.isEmpty else { return nil }
            let p = slice.map(\.probability)
            return DecileBand(decile: d + 1, homes: slice.count, minimum: p.min()!, maximum: p.max()!,
                              mean: p.reduce(0, +) / Double(p.count))
        }
    }

    /// Zips listed in the text report; the HTML report lists them all.
    static let textZipRows = 20

    public var text: String {
        var lines = ["\(title)",
                     "score run \(run.id) as of \(run.asOf), model \(run.modelFile), horizon \(run.horizonDays) days",
                     "homes: \(homes.count), on the market: \(onMarket)",
                     String(format: "expected listings within %d days: %.1f", run.horizonDays, expectedListings),
                     "", "score distribution (ranked homes):", "  decile  homes   min      mean     max"]
        for band in deciles {
            lines.append(String(format: "  %6d %6d  %6.2f%%  %6.2f%%  %6.2f%%", band.decile, band.homes, 100 * band.minimum,
                                100 * band.mean, 100 * band.maximum))
        }
        lines += ["", "tiers:", "  tier     homes   expected listings   share"]
        for row in tierRows {
            lines.append("  " + row.tier.padding(toLength: 6, withPad: " ", startingAt: 0)
                         + String(format: " %7d %19.1f %6.1f%%", row.homes, row.expectedListings, 100 * row.share))
        }
        let zips = zipRows
        lines += ["", "zips (most expected listings first):", "  zip         homes  on market   expected   High"]
        for row in zips.prefix(Self.textZipRows) {
            lines.append("  " + row.zip.padding(toLength: 10, withPad: " ", startingAt: 0)
                         + String(format: " %6d %10d %10.1f %6d", row.homes, row.onMarket, row.expectedListings, row.highHomes))
        }
        if zips.count > Self.textZipRows { lines.append("  ... and \(zips.count - Self.textZipRows) more zips (all in the HTML report)") }
        lines.append("")
        lines.append("top prospects:")
        for home in homes.filter({ $0.rank != nil }).sorted(by: { $0.rank! < $1.rank! }).prefix(20) {
            lines.append(String(format: "  %4d  %5.1f%%  %@  %@  %@", home.rank!, 100 * home.probability, home.propertyID,
                                home.address, home.reasons.joined(separator: "; ")))
        }
        if !campaigns.isEmpty {
            lines += ["", "measured campaigns (listwise campaign results NAME for the tables):"]
            lines += campaigns.map { "  \($0.campaign): \($0.verdict)" }
        }
        return lines.joined(separator: "\n")
    }
}

extension TerritoryReport {
    /// The report of `run` and its homes, with the model's validation when its file can be read.
    init(run: ScoreRunRecord, homes: [Home]) {
        let metrics = (try? LikelyToSellModel.load(path: run.modelFile))?.metrics
        self.init(run: run, title: "Territory report: \(run.territory ?? "all properties")", homes: homes, validation: metrics?.deciles,
                  validationAUC: metrics?.rocAUC, validationLift: metrics?.topLift)
    }
}
