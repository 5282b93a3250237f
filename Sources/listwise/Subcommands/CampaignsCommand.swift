// `listwise campaigns`: the campaign history with counts.
import ArgumentParser
import Foundation
import ListwiseKit

struct CampaignsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaigns",
        abstract: "List campaigns with their exports, channels, prospects reached and held out.",
        discussion: """
            Reads the campaign history; writes one line a campaign to stdout (or JSON lines with --format jsonl).

            Example:
              listwise campaigns

            A measured campaign (exported with --holdout) shows its held-out prospects and percent; \
            `listwise campaign results NAME` compares them with the contacted ones.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, jsonl }

    @Option(help: "table or jsonl.") var format: Format = .table
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let campaigns = try await database.withStore { try await $0.campaigns() }
        let out = FileHandle.standardOutput
        switch format {
        case .jsonl:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for campaign in campaigns { out.write(try encoder.encode(campaign) + Data("\n".utf8)) }
        case .table:
            func line(_ cells: [String]) {
                out.write(Data((TextOutput.pad(cells[0], 24) + " " + TextOutput.pad(cells[1], 7, right: true) + "  " + TextOutput.pad(cells[2], 16) + " "
                                + TextOutput.pad(cells[3], 9, right: true) + " " + TextOutput.pad(cells[4], 9, right: true) + " "
                                + TextOutput.pad(cells[5], 14, right: true) + "  " + cells[6] + "\n").utf8))
            }
            line(["campaign", "exports", "channels", "rows", "prospects", "held out", "last export"])
            for c in campaigns {
                let heldOut = c.holdoutPercent.map { "\(c.heldOut) (\($0) %)" } ?? "-"
                line([c.name, String(c.exports), c.channels.joined(separator: ","), String(c.rows), String(c.prospects), heldOut,
                      c.lastExportAt ?? "-"])
            }
        }
    }
}
