// An export made ready by either store: the selected candidates filtered by suppression,
// do-not-contact flags, frequency cap and deliverability, shaped for a channel (mail households,
// email tools, ad-platform customer lists), with its content and the prospects it reaches.
import Foundation

/// An export ready to be written: the rendered list, the prospects it reaches, its summary.
public struct PreparedExport: Sendable {
    public var settings: ExportSettings
    /// The score run the list comes from.
    public var run: ScoreRunRecord
    public var summary: ExportSummary
    let builder: ExportBuilder
    /// The whole file: header and rows (CSV), or one JSON object a line (rendered on each use).
    public var content: Data { builder.render() }
    public var prospectIDs: [String] { builder.exportedProspectIDs }
    /// The prospects set aside as the campaign's control group (recorded, not on the list).
    public var heldOutProspectIDs: [String] { builder.heldOutProspectIDs }
    /// The home of each prospect on the list or held out.
    var prospectHomes: [String: String] { builder.prospectHomes }
}

extension PreparedExport {
    static func checkCampaign(_ settings: ExportSettings) throws {
        guard !settings.campaign.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ListwiseError.usage("--campaign must not be empty")
        }
    }

    static func check(_ run: ScoreRunRecord, settings: ExportSettings) throws {
        if let territory = settings.territory, run.territory != territory {
            throw ListwiseError.usage("score run \(run.id) is not a run of territory \(territory) (it scored \(run.territory ?? "every home"))")
        }
    }

    /// Selects the homes, filters and renders the list (whichever store fetches the candidates).
    static func assemble(_ selection: CandidateSelection, suppressions: SuppressionList, recentlyContacted: Set<String>,
                         history: CampaignHistory) async throws -> PreparedExport {
        let settings = selection.settings, run = selection.run
        let holdout = try history.holdout(settings.holdout, campaign: settings.campaign)
        var builder = ExportBuilder(settings: settings, suppressions: suppressions, recentlyContacted: recentlyContacted,
                                    history: history, holdout: holdout)
        var homes = 0, onMarketSkipped = 0
        var deepestRank: Int?, deepestProbability: Double?
        if case .top(let rows) = settings.selection {
            // N rows that pass the rules, going as deep in the ranking as it takes (SPEC §4).
            (homes, deepestRank, deepestProbability, onMarketSkipped) = try await selection.fillTopRows(rows, builder: &builder)
        } else {
            let candidates = try await selection.selectedHomes()
            for candidate in candidates.rows { builder.add(candidate) }
            (homes, onMarketSkipped) = (candidates.homes, candidates.onMarketSkipped)
            deepestRank = candidates.rows.last { $0.rank != nil }?.rank
            deepestProbability = candidates.rows.last?.probability
        }
        for _ in 0..<onMarketSkipped { builder.skip(.onMarket) }
        var summary = builder.summary(runID: run.id)
        summary.selectedHomes = homes
        summary.deepestRank = deepestRank
        summary.deepestProbability = deepestProbability
        return PreparedExport(settings: settings, run: run, summary: summary, builder: builder)
    }
}
