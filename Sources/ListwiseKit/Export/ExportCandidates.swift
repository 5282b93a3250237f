// The candidates of an export: the prospects of a score run's best homes in rank order, as a
// store fetches them (SQLiteExport.swift, PostgresExport.swift); `--top N` goes as deep in the
// ranking as it takes to fill N rows that pass the rules.
import Foundation

/// One prospect of a selected home, as the export query returns it.
struct ExportCandidate: Sendable {
    var propertyID: String
    var probability: Double
    /// The home's rank in the run; nil for homes on the market.
    var rank: Int?
    var onMarket: Bool
    var reasons: [String]
    var propertyAddress: String
    var propertyCity: String
    var propertyState: String
    var propertyZip: String
    var propertyZip4: String?
    var prospectID: String?
    var firstName: String
    var lastName: String
    var mailingAddress: String?
    var mailingCity: String?
    var mailingState: String?
    var mailingZip: String?
    var mailingZip4: String?
    var email: String?
    var phone: String?
    var doNotMail: Bool
    var doNotEmail: Bool
    var doNotCall: Bool
    /// The delivery street line and city standardised (mail), done by the fetching threads.
    var standardDelivery: (address: StandardAddress, city: String)?
    /// The home's tier in the run (nil on the market): a holdout's stratum.
    var tier: String?

    /// Sets `standardDelivery` (mail exports; the fetching threads do it).
    mutating func standardizeDelivery() {
        let delivery = deliveryAddress
        standardDelivery = (AddressStandardizer.standardize(delivery.street), AddressStandardizer.standardizeCity(delivery.city))
    }

    /// Absentee owners are written to at their mailing address, others at the home.
    var usesMailingAddress: Bool { !(mailingAddress ?? "").trimmedSpaces.isEmpty }
    var deliveryAddress: (street: String, city: String, state: String, zip: String, zip4: String?) {
        usesMailingAddress
            ? (mailingAddress ?? "", mailingCity ?? "", mailingState ?? "", mailingZip ?? "", mailingZip4)
            : (propertyAddress, propertyCity, propertyState, propertyZip, propertyZip4)
    }
}

/// The candidates of one range of property ids.
struct CandidatePart: Sendable {
    var rows: [ExportCandidate] = []
    var onMarket: [(probability: Double, hasProspect: Bool)] = []
}

/// The homes an export reads, best first, with what the summary says about them.
struct SelectedCandidates {
    var rows: [ExportCandidate] = []
    /// Homes examined (ranked homes, and on-market homes when they are exported).
    var homes = 0
    /// Prospects of on-market homes that would have qualified (when they are left out).
    var onMarketSkipped = 0
}

/// Ranges of ranks read in turn by `--top N`.
struct RankWindow: Equatable {
    var above: Int
    var through: Int

    /// The first window: N homes and 5 % more (a home yields about one row; measured 0.98 mail
    /// households a home on the generated county), so that one fetch usually suffices.
    static func first(rows: Int) -> RankWindow { RankWindow(above: 0, through: rows + rows / 20 + 50) }

    /// The next window, sized by the rows a home has yielded so far.
    func next(missingRows: Int, homesSoFar: Int, rowsSoFar: Int) -> RankWindow {
        let homesPerRow = Double(max(homesSoFar, 1)) / Double(max(rowsSoFar, 1))
        let size = Int((Double(missingRows) * homesPerRow * 1.2).rounded(.up)) + 100
        return RankWindow(above: through, through: through + min(size, Int.max / 4))
    }
}

/// Which homes of a run one fetch of candidates reads.
enum CandidateFilter: Sendable, Equatable {
    /// Ranks in (above, through]; with the on-market homes when `withOnMarket`.
    case rankWindow(above: Int, through: Int, withOnMarket: Bool)
    /// Probability at least this.
    case minProbability(Double)
}

/// Candidates best home first (ties by property id), a home's prospects together by prospect
/// id; and the on-market homes left out (probability, whether a prospect).
struct OrderedCandidates {
    var rows: [ExportCandidate] = []
    var homeStarts: [Int] = []
    var onMarket: [(probability: Double, hasProspect: Bool)] = []
}

/// The selection rules of SPEC §4 over candidates a store fetches (`fetch`, each store in its
/// own way): the same list from both stores.
struct CandidateSelection {
    let run: ScoreRunRecord
    let settings: ExportSettings
    let fetch: (CandidateFilter) async throws -> OrderedCandidates

    /// `--top-percent` and `--min-probability`: the selected homes, best first.
    func selectedHomes() async throws -> SelectedCandidates {
        var limit: Int?
        let filter: CandidateFilter
        switch settings.selection {
        case .topPercent(let percent):
            let ranked = settings.includeOnMarket ? run.rows : run.rows - run.onMarket
            let n = Int((Double(ranked) * percent / 100).rounded(.up))
            limit = n
            // On-market homes (not ranked, a few percent) come along: selected, or counted as skipped.
            filter = .rankWindow(above: 0, through: n, withOnMarket: true)
        case .minProbability(let minimum):
            filter = .minProbability(minimum)
        case .top:
            preconditionFailure("--top reads by rank windows: fillTopRows")
        }
        var fetched = try await fetch(filter)
        if let limit, fetched.homeStarts.count > limit {
            fetched.rows.removeSubrange(fetched.homeStarts[limit]...)
            fetched.homeStarts.removeSubrange(limit...)
        }
        var threshold = fetched.rows.last?.probability ?? .infinity
        if case .minProbability(let minimum) = settings.selection { threshold = minimum }
        let onMarketSkipped = fetched.rows.isEmpty ? 0 : fetched.onMarket.filter { $0.hasProspect && $0.probability >= threshold }.count
        return SelectedCandidates(rows: fetched.rows, homes: fetched.homeStarts.count, onMarketSkipped: onMarketSkipped)
    }

    /// `--top N`: feeds `builder` home by home, best first, until it holds N rows, reading the
    /// run in windows of ranks (one window in the usual case). Returns the homes examined and
    /// the deepest one's rank and probability. (Homes are walked by index, never copied: copying
    /// the 130k fetched rows, strings and all, was 0.3 s of a 100k-household export.)
    func fillTopRows(_ rowCount: Int, builder: inout ExportBuilder)
        async throws -> (homes: Int, deepestRank: Int?, deepestProbability: Double?, onMarketSkipped: Int) {
        let rankedHomes = run.rows - run.onMarket
        func capped(_ window: RankWindow) -> RankWindow {
            guard let cap = settings.rankWindowCap else { return window }
            return RankWindow(above: window.above, through: min(window.through, window.above + cap))
        }
        var window = capped(RankWindow.first(rows: rowCount))
        var homes = 0
        var deepestRank: Int?, deepestProbability: Double?
        var onMarketRows: [(probability: Double, hasProspect: Bool)] = []
        // Exported on-market homes (no rank) wait here, best first, and join the stream by probability.
        var waiting: [ArraySlice<ExportCandidate>] = []
        var waitingIndex = 0
        var first = true
        var full = false
        builder.rowLimit = rowCount

        /// Adds one home's prospects; false when the list is already full.
        func take(_ home: ArraySlice<ExportCandidate>) -> Bool {
            guard builder.rowCount < rowCount else { return false }
            homes += 1
            let head = home[home.startIndex]
            deepestProbability = head.probability
            if let rank = head.rank { deepestRank = rank }
            for candidate in home { builder.add(candidate) }
            return true
        }
        func before(_ a: ExportCandidate, _ b: ExportCandidate) -> Bool {
            a.probability != b.probability ? a.probability > b.probability : a.propertyID < b.propertyID
        }
        while !full {
            // The first window also brings the on-market homes (exported or counted as skipped).
            let fetched = try await fetch(.rankWindow(above: window.above, through: window.through, withOnMarket: first))
            let rows = fetched.rows, starts = fetched.homeStarts
            func home(_ k: Int) -> ArraySlice<ExportCandidate> { rows[starts[k]..<(k + 1 < starts.count ? starts[k + 1] : rows.count)] }
            if first {
                onMarketRows = fetched.onMarket
                for (k, start) in starts.enumerated() where rows[start].rank == nil { waiting.append(home(k)) }
                first = false
            }
            for (k, start) in starts.enumerated() where rows[start].rank != nil {
                while waitingIndex < waiting.count, before(waiting[waitingIndex][waiting[waitingIndex].startIndex], rows[start]) {
                    guard take(waiting[waitingIndex]) else { full = true; break }
                    waitingIndex += 1
                }
                if full || !take(home(k)) {
                    full = true
                    break
                }
            }
            if full || window.through >= rankedHomes { break }
            window = capped(window.next(missingRows: rowCount - builder.rowCount, homesSoFar: homes, rowsSoFar: builder.rowCount))
        }
        while !full, waitingIndex < waiting.count {
            guard take(waiting[waitingIndex]) else { break }
            waitingIndex += 1
        }
        let threshold = deepestProbability ?? .infinity
        let onMarketSkipped = homes == 0 ? 0 : onMarketRows.filter { $0.hasProspect && $0.probability >= threshold }.count
        return (homes, deepestRank, deepestProbability, onMarketSkipped)
    }
}
