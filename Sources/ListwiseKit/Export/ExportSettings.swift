// Campaign exports (SPEC §4): what an export is asked for (channel, format, selection, frequency
// cap, campaign) and what it reports (rows, prospects, skips by reason).
import Foundation

public enum ExportChannel: String, CaseIterable, Codable, Sendable {
    case mail, email, ads
}

public enum AdsFormat: String, CaseIterable, Codable, Sendable {
    case meta, google
}

public enum ExportFileFormat: String, CaseIterable, Codable, Sendable {
    case csv, jsonl
}

/// Which homes of the run: the N best, the best P % of the ranked homes, or every home at or
/// above a probability. Homes on the market are not ranked and are left out unless asked for.
public enum ExportSelection: Equatable, Sendable, CustomStringConvertible {
    case top(Int)
    case topPercent(Double)
    case minProbability(Double)

    public var description: String {
        switch self {
        case .top(let n): return "top \(n)"
        case .topPercent(let p): return "top \(p)%"
        case .minProbability(let x): return "probability >= \(x)"
        }
    }
}

/// Why a prospect of a selected home is not on the list, in the order they are checked.
public enum SkipReason: String, CaseIterable, Codable, Sendable {
    case noProspect = "no_prospect"
    case onMarket = "on_market"
    case suppressed
    case doNotMail = "do_not_mail"
    case doNotEmail = "do_not_email"
    case recentlyContacted = "recently_contacted"
    case heldOut = "held_out"
    case noAddress = "no_address"
    case noEmail = "no_email"
    case invalidEmail = "invalid_email"
    case noEmailOrPhone = "no_email_or_phone"
    case duplicateHousehold = "duplicate_household"
    case duplicateEmail = "duplicate_email"
    case duplicateContact = "duplicate_contact"

    /// Words for the summary.
    public var label: String {
        switch self {
        case .noProspect: return "home without a prospect"
        case .onMarket: return "on the market"
        case .suppressed: return "suppressed (opt-out list)"
        case .doNotMail: return "do not mail"
        case .doNotEmail: return "do not email"
        case .recentlyContacted: return "recently contacted"
        case .heldOut: return "held out earlier (the campaign's control group)"
        case .noAddress: return "no deliverable address"
        case .noEmail: return "no email"
        case .invalidEmail: return "invalid email"
        case .noEmailOrPhone: return "no usable email or phone"
        case .duplicateHousehold: return "merged into a household row"
        case .duplicateEmail: return "duplicate email"
        case .duplicateContact: return "duplicate email or phone"
        }
    }
}

public struct ExportSettings: Sendable {
    public var campaign: String
    public var channel: ExportChannel
    public var selection: ExportSelection
    public var territory: String?
    public var runID: Int64?
    public var excludeContactedWithinDays: Int?
    public var includeOnMarket = false
    /// `--holdout`: set aside a random share of the eligible households or people (SPEC §11).
    /// A campaign that holds out does so in every export, at the same percent.
    public var holdout: HoldoutRequest?
    public var format = ExportFileFormat.csv
    public var adsFormat = AdsFormat.meta
    /// The export's time (history, frequency cap); settable for tests.
    public var now = Date()
    /// Runs of at least this many homes are read by two threads (each half of the run).
    var parallelFromRows = 20_000
    /// `--top N` reads at most this many ranks a window (tests: force many windows).
    var rankWindowCap: Int?

    public init(campaign: String, channel: ExportChannel, selection: ExportSelection, territory: String? = nil) {
        self.campaign = campaign
        self.channel = channel
        self.selection = selection
        self.territory = territory
    }
}

public struct ExportSummary: Codable, Equatable, Sendable {
    public var campaign: String
    public var channel: ExportChannel
    public var runID: Int64
    /// Homes examined: with `--top N`, as many as it took to fill N rows.
    public var selectedHomes: Int
    /// The lowest-ranked home examined (nil when none, or when it was on the market).
    public var deepestRank: Int?
    public var deepestProbability: Double?
    public var selectedProspects: Int
    public var exportedRows: Int
    public var exportedProspects: Int
    public var skipped: [String: Int]
    public var notice: String?
    /// The control group this export drew: households (mail) or people set aside, and their prospects.
    public var holdout: HoldoutSettings?
    public var heldOutRows = 0
    public var heldOutProspects = 0
}
