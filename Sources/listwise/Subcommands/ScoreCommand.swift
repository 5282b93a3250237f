// `listwise score`: scores every home (or a territory's) and stores a score run (SPEC §3).
import ArgumentParser
import Foundation
import ListwiseKit

struct ScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score homes with a model and store a score run.",
        discussion: """
            Reads the database and a model file (default: the newest in Models/); writes one score run and its scores (probability, rank, percentile, tier, on-market flag, three reasons) in one transaction. Homes on the market at the as-of date are scored and flagged, not ranked.

            Example:
              listwise score --territory east-bay --as-of 2025-12-31
            """
    )

    @Option(help: ArgumentHelp("Territory to score (default: every property).", valueName: "name")) var territory: String?
    @Option(help: ArgumentHelp("Model file (default: the newest .json in Models/).", valueName: "file")) var model: String?
    @OptionGroup var asOf: AsOfOptions
    @Option(help: "Percent of ranked homes in the High tier.") var highPercent: Double = 20
    @Option(help: "Percent of ranked homes in the Medium tier.") var mediumPercent: Double = 30
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard highPercent >= 0, mediumPercent >= 0, highPercent + mediumPercent <= 100 else {
            throw ValidationError("--high-percent and --medium-percent must be non-negative and add up to at most 100")
        }
    }

    func run() async throws {
        let modelFile = try model ?? AppDatabase.newestModel(in: "Models").path
        let loaded = try LikelyToSellModel.load(path: modelFile)
        let today = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date())
        let day = try asOf.asOfDay() ?? DayNumber.from(year: today.year!, month: today.month!, day: today.day!)
        var settings = ScoreSettings(asOfDay: day, territory: territory, modelFile: modelFile)
        settings.highShare = highPercent / 100
        settings.mediumShare = mediumPercent / 100
        settings.marketRates = try asOf.rates()
        let started = Date()
        settings.progress = { homes, ranking in
            Terminal.progress(ranking ? "ranking \(homes.grouped) homes" : "scoring: \(homes.grouped) homes" + Terminal.rate(homes, since: started, unit: " homes/s"))
        }
        settings.readProgress = { homes in
            Terminal.progress("reading features: \(homes.grouped) homes" + Terminal.rate(homes, since: started, unit: " homes/s"))
        }
        let summary = try await database.withStore { try await $0.score(model: loaded, settings: settings) }
        Terminal.endProgress()
        for warning in summary.warnings { Terminal.warning(warning) }
        Terminal.line("score run \(summary.runID): \(summary.rows.grouped) homes as of \(DayNumber.iso(day)) with \(modelFile)"
                      + (territory.map { " in \($0)" } ?? "")
                      + String(format: " in %.1f s", Date().timeIntervalSince(started)))
        Terminal.line("  tiers: High \(summary.tierCounts["High", default: 0].grouped), Medium \(summary.tierCounts["Medium", default: 0].grouped), "
                      + "Low \(summary.tierCounts["Low", default: 0].grouped); on the market \(summary.onMarket.grouped)")
        Terminal.line(String(format: "  expected listings within %d days: %.1f", loaded.horizonDays, summary.expectedListings))
    }
}
