// `listwise scores`: lists the scores of a run (default: the latest).
import ArgumentParser
import Foundation
import ListwiseKit

struct ScoresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scores",
        abstract: "List the scores of the latest score run (or --run ID).",
        discussion: """
            Reads the database; writes to stdout, by rank (on-market homes last), the columns property_id, address, zip, probability, rank, percentile, tier, on_market, reason1, reason2, reason3.

            Example:
              listwise scores --territory east-bay --top 20 --format csv
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, csv, jsonl }

    @Option(help: ArgumentHelp("The latest run of this territory.", valueName: "name")) var territory: String?
    @Option(name: .customLong("run"), help: ArgumentHelp("A score run id.", valueName: "id")) var runID: Int64?
    @Option(help: "Only the top N.") var top: Int?
    @Option(help: "Output format: table, csv or jsonl.") var format: Format = .table
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() async throws {
        let (scoreRun, homes) = try await database.withStore { store in
            let scoreRun = try await store.scoreRun(id: runID, territory: territory)
            try await Terminal.warnIfStale(scoreRun, in: store)
            return (scoreRun, try await store.scoredHomes(runID: scoreRun.id, limit: top))
        }
        let out = FileHandle.standardOutput
        func line(_ text: String) { out.write(Data((text + "\n").utf8)) }
        switch format {
        case .jsonl:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for home in homes { out.write(try encoder.encode(home) + Data("\n".utf8)) }
        case .csv:
            line("property_id,address,zip,probability,rank,percentile,tier,on_market,reason1,reason2,reason3")
            for h in homes {
                line([h.propertyID, h.address, h.zip, String(h.probability), h.rank.map(String.init) ?? "",
                      h.percentile.map { String(format: "%.2f", $0) } ?? "", h.tier ?? "", h.onMarket ? "1" : "0",
                      h.reason1 ?? "", h.reason2 ?? "", h.reason3 ?? ""].map(CSVField.quoted).joined(separator: ","))
            }
        case .table:
            Terminal.line("score run \(scoreRun.id): as of \(scoreRun.asOf), \(scoreRun.territory ?? "all properties"), model \(scoreRun.modelFile)")
            for h in homes {
                let rank = h.rank.map { String($0) } ?? "-"
                let tier = h.onMarket ? "on market" : (h.tier ?? "")
                let reasons = [h.reason1, h.reason2, h.reason3].compactMap { $0 }.joined(separator: "; ")
                line(String(format: "%6@  %-12@ %-32@ %@  %5.1f%%  %-9@ %@", rank, h.propertyID, String(h.address.prefix(32)), h.zip,
                            100 * h.probability, tier, reasons))
            }
        }
    }
}
