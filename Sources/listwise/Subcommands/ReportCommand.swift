// `listwise report`: a territory's score run as text, and optionally a self-contained HTML page.
import ArgumentParser
import Foundation
import ListwiseKit

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Report a territory's latest score run (or --run ID).",
        discussion: """
            Reads the database and the run's model file; prints homes, on-market homes, expected listings within the horizon, the score distribution by decile, homes and expected listings by tier and by zip, and the top 20 prospects with reasons. --html writes one self-contained page: inline SVG charts with axes and legends (score histogram by tier, a map of homes coloured by score, binned into a grid above 4,000 homes; gains and calibration from the model's validation), the tier and zip tables, and the most common kinds of reason among High homes. Memory: the run's homes (a few hundred bytes each); the page stays under 3 MB at 100,000 homes.

            Example:
              listwise report --territory east-bay --html east-bay.html
            """
    )

    @Option(help: ArgumentHelp("Territory (its latest run).", valueName: "name")) var territory: String?
    @Option(name: .customLong("run"), help: ArgumentHelp("A score run id.", valueName: "id")) var runID: Int64?
    @Option(help: ArgumentHelp("Also write the HTML report here.", valueName: "file")) var html: String?
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let report = try await database.withStore { store in
            let report = try await store.territoryReport(territory: territory, runID: runID)
            try await Terminal.warnIfStale(report.run, in: store)
            return report
        }
        print(report.text)
        if let html {
            try HTMLReport.render(report).write(toFile: html, atomically: true, encoding: .utf8)
            Terminal.line("wrote \(html)")
        }
    }
}
