// The report's tables by tier and by zip (SPEC §3): homes, expected listings (sum of probabilities of
// the homes not on the market), and how they split. One pass over the homes each.
import Foundation

public struct TierRow: Sendable, Equatable {
    public var tier: String
    public var homes: Int
    public var expectedListings: Double
    /// Of all expected listings in the run (0 when none are expected).
    public var share: Double
    public var lowestProbability: Double?, highestProbability: Double?
}

public struct ZipRow: Sendable, Equatable {
    public var zip: String
    public var homes: Int, onMarket: Int
    public var expectedListings: Double
    public var highHomes: Int
}

extension TerritoryReport {
    public static let tiers = ["High", "Medium", "Low"]

    /// High, Medium and Low (always all three), over the ranked homes (homes on the market have no tier).
    public var tierRows: [TierRow] {
        var rows = Self.tiers.map { TierRow(tier: $0, homes: 0, expectedListings: 0, share: 0) }
        for home in homes where !home.onMarket {
            guard let index = Self.tiers.firstIndex(where: { $0 == home.tier }) else { continue }
            rows[index].homes += 1
            rows[index].expectedListings += home.probability
            rows[index].lowestProbability = min(rows[index].lowestProbability ?? 1, home.probability)
            rows[index].highestProbability = max(rows[index].highestProbability ?? 0, home.probability)
        }
        let total = rows.reduce(0) { $0 + $1.expectedListings }
        for index in rows.indices { rows[index].share = total > 0 ? rows[index].expectedListings / total : 0 }
        return rows
    }

    /// One row per zip, most expected listings first (then by zip).
    public var zipRows: [ZipRow] {
        var rows: [String: ZipRow] = [:]
        for home in homes {
            var row = rows[home.zip] ?? ZipRow(zip: home.zip, homes: 0, onMarket: 0, expectedListings: 0, highHomes: 0)
            row.homes += 1
            if home.onMarket { row.onMarket += 1 } else { row.expectedListings += home.probability }
            if home.tier == "High" { row.highHomes += 1 }
            rows[home.zip] = row
        }
        return rows.values.sorted {
            $0.expectedListings != $1.expectedListings ? $0.expectedListings > $1.expectedListings : $0.zip < $1.zip
        }
    }
}

extension Int {
    /// 1234567 → "1,234,567".
    public var grouped: String {
        let digits = String(magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (self < 0 ? "-" : "") + out
    }
}
