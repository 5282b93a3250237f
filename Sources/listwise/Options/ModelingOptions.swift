// Options shared by the modelling commands: --as-of, --horizon, --market-rates.
import ArgumentParser
import Foundation
import ListwiseKit

struct AsOfOptions: ParsableArguments {
    @Option(help: ArgumentHelp("As-of date, YYYY-MM-DD.", valueName: "date"))
    var asOf: String?

    @Option(help: ArgumentHelp("Market rates table (columns month or year, rate_percent); default: the bundled 30-year table.",
                               valueName: "file"))
    var marketRates: String?

    func asOfDay() throws -> Int? {
        guard let asOf else { return nil }
        guard let day = DayNumber.parse(asOf) else { throw ValidationError("--as-of must be a date YYYY-MM-DD, got '\(asOf)'") }
        return day
    }

    func rates() throws -> MarketRates {
        try marketRates.map(MarketRates.load(path:)) ?? .standard
    }
}
