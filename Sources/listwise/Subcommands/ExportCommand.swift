// `listwise export`: a campaign's mail, email or ad-audience list from a score run.
import ArgumentParser
import Foundation
import ListwiseKit

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a target list (mail, email or ads) for a campaign from the latest score run of a territory.",
        discussion: """
            Reads the score run, prospects and the opt-out list; writes the list (CSV or JSONL) to --out FILE or stdout, \
            and records every exported prospect in the campaign history. The file is created with mode 0600 and appears \
            whole or not at all (written beside, then renamed); a failed export records nothing. A summary of selected, \
            exported and skipped prospects (by reason) goes to stderr. With --holdout P, P % of the eligible households (mail) \
            or people (email, ads), drawn at random within each tier, are set aside as the campaign's control group: recorded \
            as held out, not on the list, never exported by the campaign later; `listwise campaign results` then compares them \
            with the contacted homes. A campaign that holds out does so in every export, at the same percent. \
            Exit codes: 0 ok, 1 failure, 2 bad options or no score run.

            Example:
              listwise export --territory east-bay --channel mail --campaign spring-mailer --top 5000 \\
                  --exclude-contacted-within 90 --holdout 10 --out spring.csv
            """
    )

    @Option(help: ArgumentHelp("The territory (its latest score run, unless --run).", valueName: "name")) var territory: String?
    @Option(help: "mail, email or ads.") var channel: ExportChannel
    @Option(help: ArgumentHelp("The campaign the list is for (history and frequency cap).", valueName: "name")) var campaign: String
    @Option(help: "N rows (households for mail, people for email and ads): the best that pass every skip rule, going as deep in the ranking as needed.")
    var top: Int?
    @Option(name: .customLong("top-percent"), help: ArgumentHelp("The best P % of the ranked homes.", valueName: "P")) var topPercent: Double?
    @Option(name: .customLong("min-probability"), help: ArgumentHelp("Homes at or above this probability.", valueName: "X"))
    var minProbability: Double?
    @Option(name: .customLong("run"), help: ArgumentHelp("A score run id.", valueName: "id")) var runID: Int64?
    @Option(name: .customLong("exclude-contacted-within"),
            help: ArgumentHelp("Skip prospects exported to any campaign in the last DAYS days.", valueName: "DAYS"))
    var excludeContactedWithin: Int?
    @Option(help: ArgumentHelp("Hold out this percent (1-90) of the eligible households or people as the campaign's control group.",
                               valueName: "PERCENT"))
    var holdout: Int?
    @Option(name: .customLong("holdout-seed"), help: ArgumentHelp("Seed of the holdout draw (default: a random one, reported).", valueName: "N"))
    var holdoutSeed: Int?
    @Flag(name: .customLong("include-on-market"), help: "Include homes with an active listing.") var includeOnMarket = false
    @Option(name: .customLong("ads-format"), help: "For --channel ads: meta (Custom Audiences) or google (Customer Match).")
    var adsFormat: AdsFormat = .meta
    @Option(help: "csv or jsonl.") var format: ExportFileFormat = .csv
    @Option(help: ArgumentHelp("Output file (default: stdout).", valueName: "file")) var out: String?
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        let selections = [top != nil, topPercent != nil, minProbability != nil].filter { $0 }.count
        guard selections == 1 else { throw ValidationError("give exactly one of --top, --top-percent, --min-probability") }
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
        if let topPercent, !(topPercent > 0 && topPercent <= 100) { throw ValidationError("--top-percent must be in (0, 100]") }
        if let minProbability, !(0...1).contains(minProbability) { throw ValidationError("--min-probability must be in [0, 1]") }
        if let excludeContactedWithin, excludeContactedWithin < 0 { throw ValidationError("--exclude-contacted-within must be 0 or more") }
        if territory == nil, runID == nil { throw ValidationError("give --territory (or --run)") }
        if campaign.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--campaign must not be empty") }
        if let holdout, !HoldoutRequest.percentRange.contains(holdout) { throw ValidationError("--holdout must be a whole percent from 1 to 90") }
        if let holdoutSeed, !HoldoutRequest.seedRange.contains(holdoutSeed) {
            throw ValidationError("--holdout-seed must be from 0 to \(HoldoutRequest.seedRange.upperBound)")
        }
    }

    func run() async throws {
        let selection: ExportSelection = top.map { .top($0) } ?? topPercent.map { .topPercent($0) } ?? .minProbability(minProbability!)
        var settings = ExportSettings(campaign: campaign, channel: channel, selection: selection, territory: territory)
        settings.runID = runID
        settings.excludeContactedWithinDays = excludeContactedWithin
        settings.includeOnMarket = includeOnMarket
        if holdout != nil || holdoutSeed != nil { settings.holdout = HoldoutRequest(percent: holdout, seed: holdoutSeed) }
        settings.format = format
        settings.adsFormat = adsFormat
        let export = try await database.withStore { store in
            let export = try await store.export(settings, to: out) { FileHandle.standardOutput.write($0) }
            try await Terminal.warnIfStale(export.run, in: store)
            return export
        }
        let s = export.summary
        Terminal.line("\(s.channel.rawValue) list for campaign \(s.campaign) from score run \(s.runID): "
                      + "\(s.selectedHomes.grouped) homes, \(s.selectedProspects.grouped) prospects selected; "
                      + "\(s.exportedRows.grouped) rows exported (\(s.exportedProspects.grouped) prospects)\(out.map { " to \($0)" } ?? "")")
        if let rank = s.deepestRank, let probability = s.deepestProbability {
            Terminal.line("  went down to rank \(rank.grouped) (probability " + String(format: "%.4f", probability) + ")")
        }
        if let top, s.exportedRows < top {
            Terminal.line("  only \(s.exportedRows.grouped) of the \(top.grouped) rows asked for pass the rules in the whole run")
        }
        if let holdout = s.holdout {
            let unit = s.channel == .mail ? "households" : "people"
            Terminal.line("  held out (control group, \(holdout.percent) % by tier, seed \(holdout.seed)): \(s.heldOutRows.grouped) \(unit), "
                          + "\(s.heldOutProspects.grouped) prospects")
        }
        for reason in SkipReason.allCases {
            if let count = s.skipped[reason.rawValue], count > 0 { Terminal.line("  skipped, \(reason.label): \(count)") }
        }
        if let notice = s.notice { Terminal.line("note: \(notice)") }
    }
}

extension ExportChannel: ExpressibleByArgument {}
extension AdsFormat: ExpressibleByArgument {}
extension ExportFileFormat: ExpressibleByArgument {}
