// Average US 30-year fixed mortgage rates by month (SPEC §2 "Rates"): the table shipped in
// Data/mortgage_rates_30y.csv, replaceable with `--market-rates FILE`.
import Foundation

public struct MarketRates: Equatable, Sendable {
    /// Rate in percent by month index (`year * 12 + month - 1`), sorted, no gaps.
    public let firstMonth: Int
    public let ratesPercent: [Double]

    /// Yearly values apply to each month of their year.
    public init(yearly: [(year: Int, ratePercent: Double)]) {
        self.init(monthly: yearly.flatMap { entry in (1...12).map { (entry.year * 12 + $0 - 1, entry.ratePercent) } })
    }

    /// Monthly values keyed by month index; a missing month carries the previous value.
    init(monthly: [(Int, Double)]) {
        let sorted = monthly.sorted { $0.0 < $1.0 }
        firstMonth = sorted.first?.0 ?? 0
        var rates: [Double] = []
        var next = firstMonth
        for (month, rate) in sorted where month >= next {
            while next < month { rates.append(rates.last ?? rate); next += 1 }
            rates.append(rate)
            next += 1
        }
        ratesPercent = rates
    }

    public var lastMonth: Int { firstMonth + ratesPercent.count - 1 }

    /// The rate for a month; before the table the first value, past it the last value carried
    /// (`carried` tells the caller to warn).
    public func ratePercent(year: Int, month: Int) -> (rate: Double, carried: Bool) {
        let index = year * 12 + month - 1 - firstMonth
        if index < 0 { return (ratesPercent[0], false) }
        if index >= ratesPercent.count { return (ratesPercent[ratesPercent.count - 1], true) }
        return (ratesPercent[index], false)
    }

    /// Reads a table with columns `month` (`YYYY-MM`) or `year`, and `rate_percent`.
    public static func load(path: String) throws -> MarketRates {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ListwiseError.usage("\(path): cannot read the market-rates file")
        }
        var lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !lines.isEmpty else { throw ListwiseError.usage("\(path): empty market-rates file") }
        let header = lines.removeFirst().lowercased().replacingOccurrences(of: "\u{FEFF}", with: "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let rateColumn = header.firstIndex(of: "rate_percent"),
              let periodColumn = header.firstIndex(of: "month") ?? header.firstIndex(of: "year") else {
            throw ListwiseError.usage("\(path):1: market rates need columns 'month' (YYYY-MM) or 'year', and 'rate_percent'")
        }
        let monthly = header[periodColumn] == "month"
        var entries: [(Int, Double)] = []
        for (offset, line) in lines.enumerated() where !line.isEmpty {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let lineNumber = offset + 2
            guard fields.count == header.count, let rate = Double(fields[rateColumn]), rate >= 0, rate < 100 else {
                throw ListwiseError.usage("\(path):\(lineNumber): bad rate_percent")
            }
            let period = fields[periodColumn]
            if monthly {
                let parts = period.split(separator: "-")
                guard parts.count == 2, let year = Int(parts[0]), let month = Int(parts[1]), (1...12).contains(month) else {
                    throw ListwiseError.usage("\(path):\(lineNumber): month must be YYYY-MM")
                }
                entries.append((year * 12 + month - 1, rate))
            } else {
                guard let year = Int(period) else { throw ListwiseError.usage("\(path):\(lineNumber): bad year") }
                entries.append(contentsOf: (1...12).map { (year * 12 + $0 - 1, rate) })
            }
        }
        guard !entries.isEmpty else { throw ListwiseError.usage("\(path): no rates in the market-rates file") }
        return MarketRates(monthly: entries)
    }

    /// The table shipped in Data/mortgage_rates_30y.csv (a test checks they agree).
    public static let standard = MarketRates(yearly: [
        (1972, 7.38),
        (1973, 8.04),
        (1974, 9.19),
        (1975, 9.05),
        (1976, 8.87),
        (1977, 8.85),
        (1978, 9.64),
        (1979, 11.20),
        (1980, 13.74),
        (1981, 16.63),
        (1982, 16.04),
        (1983, 13.24),
        (1984, 13.88),
        (1985, 12.43),
        (1986, 10.19),
        (1987, 10.21),
        (1988, 10.34),
        (1989, 10.32),
        (1990, 10.13),
        (1991, 9.25),
        (1992, 8.39),
        (1993, 7.31),
        (1994, 8.38),
        (1995, 7.93),
        (1996, 7.81),
        (1997, 7.60),
        (1998, 6.94),
        (1999, 7.44),
        (2000, 8.05),
        (2001, 6.97),
        (2002, 6.54),
        (2003, 5.83),
        (2004, 5.84),
        (2005, 5.87),
        (2006, 6.41),
        (2007, 6.34),
        (2008, 6.03),
        (2009, 5.04),
        (2010, 4.69),
        (2011, 4.45),
        (2012, 3.66),
        (2013, 3.98),
        (2014, 4.17),
        (2015, 3.85),
        (2016, 3.65),
        (2017, 3.99),
        (2018, 4.54),
        (2019, 3.94),
        (2020, 3.11),
        (2021, 2.96),
        (2022, 5.34),
        (2023, 6.81),
        (2024, 6.72),
        (2025, 6.60),
    ])
}
