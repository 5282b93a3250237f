// `listwise features`: writes the exact raw feature matrix (with labels) as CSV for analysts.
import ArgumentParser
import Foundation
import ListwiseKit

struct FeaturesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Write the point-in-time feature matrix of an as-of date as CSV.",
        discussion: """
            Reads the database; writes CSV with property_id, as_of, label (empty when the horizon has not passed), on_market, and one column per raw feature (empty = missing). Homes on the market at the date are left out unless --include-on-market.

            Example:
              listwise features --as-of 2024-12-31 --out features.csv
            """
    )

    @OptionGroup var asOf: AsOfOptions
    @Option(help: "Horizon in days for the label.") var horizon: Int = 365
    @Flag(help: "Keep homes on the market at the as-of date (flagged in on_market).") var includeOnMarket = false
    @Option(help: ArgumentHelp("CSV file to write (default: stdout).", valueName: "file")) var out: String?
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard asOf.asOf != nil else { throw ValidationError("--as-of is required") }
        guard horizon > 0 else { throw ValidationError("--horizon must be positive") }
    }

    func run() async throws {
        let day = try asOf.asOfDay()!
        let settings = FeatureSettings(asOfDays: [day], horizonDays: horizon, marketRates: try asOf.rates(), includeOnMarket: includeOnMarket)
        let table = try await database.withStore { try await $0.buildFeatures(settings, progress: nil) }
        let csv = FeatureCSV.render(table, asOf: DayNumber.iso(day))
        if let out {
            try csv.write(toFile: out, atomically: true, encoding: .utf8)
            Terminal.line("wrote \(out): \(table.count) homes, \(RawFeature.allCases.count) features")
        } else {
            FileHandle.standardOutput.write(Data(csv.utf8))
        }
    }
}
