// `listwise campaign results`: what a measured campaign's contacted and held-out homes did (SPEC §11).
import ArgumentParser
import Foundation
import ListwiseKit

struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Measure a campaign: its contacted homes against its held-out control group.",
        subcommands: [CampaignResultsCommand.self]
    )
}

struct CampaignResultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "Listings and sales of a campaign's contacted and held-out homes since its list, by tier, with 95 % intervals.",
        discussion: """
            Reads the campaign's history (exports made with --holdout), the score runs its lists came from and the events \
            imported since; writes a table (or JSON with --format json) to stdout. Counts, for each home, LISTING and SALE \
            events dated after the as-of date of the run its list came from, up to --as-of (default: the newest event). \
            Rates carry Wilson 95 % intervals; the ratio of contacted to held-out rates a Katz log interval in each tier and \
            a Mantel-Haenszel interval over the tiers; the difference Newcombe's interval. predicted is the run's \
            probabilities pro-rated to the days elapsed. Exit codes: 0 ok, 1 failure, 2 unknown campaign or bad date.

            Example:
              listwise campaign results spring-mailer --as-of 2026-03-31
            """
    )

    @Argument(help: "The campaign.") var name: String
    @Option(help: ArgumentHelp("Count events up to this date, YYYY-MM-DD (default: the newest event).", valueName: "date"))
    var asOf: String?
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if let asOf, DayNumber.parse(asOf) == nil { throw ValidationError("--as-of must be a date YYYY-MM-DD, got '\(asOf)'") }
    }

    func run() async throws {
        let day = asOf.flatMap(DayNumber.parse)
        let results = try await database.withStore { try await $0.campaignResults(name, asOfDay: day) }
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(results) + Data("\n".utf8))
        case .table:
            print(CampaignReport.text(results))
        }
    }
}
