// The candidates of an export: the prospects of a score run's best homes, fetched by two
// threads over halves of the run and put in rank order; `--top N` goes as deep in the ranking
// as it takes to fill N rows that pass the rules.
import Foundation
import GRDB

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

extension AppDatabase {
    /// One range of property ids per thread (two for large runs).
    func exportRanges(run: ScoreRunRecord, settings: ExportSettings) throws -> [PropertyRange] {
        try read { db in
            try PropertyRange.split(db, parts: run.rows >= settings.parallelFromRows ? 2 : 1, count: run.rows,
                                    ids: "SELECT property_id FROM scores WHERE run_id = ?", arguments: [run.id])
        }
    }

    /// The candidates of the run's homes that match `filter`, best home first (ties by property
    /// id), a home's prospects together; and the on-market homes left out (probability, whether
    /// a prospect).
    ///
    /// No SQL sort: a window of ranks is one scan of the run (`ORDER BY probability LIMIT 100000`
    /// over a 1M-home run took 1.0 s by itself, the scan 0.15 s), joined to its properties and
    /// prospects, and Swift sorts it. Two threads scan the two halves of the run on their own
    /// read-only connections (the join was 0.8–1.1 s of a 100k-home mail export on one). A score
    /// run never changes once written; properties and prospects are read as they are when each
    /// half starts.
    func orderedCandidates(_ candidateFilter: CandidateFilter, run: ScoreRunRecord, ranges: [PropertyRange],
                           settings: ExportSettings) throws -> OrderedCandidates {
        let filter: String
        var arguments: StatementArguments = ["run": run.id]
        switch candidateFilter {
        case .rankWindow(let above, let through, let withOnMarket):
            filter = "((s.rank > :above AND s.rank <= :through)\(withOnMarket ? " OR s.on_market = 1" : ""))"
            arguments += ["above": above, "through": through]
        case .minProbability(let minimum):
            filter = "s.probability >= :minimum"
            arguments += ["minimum": minimum]
        }
        let parts = ThreadResults<CandidatePart>(count: ranges.count)
        let queryArguments = arguments
        let includeOnMarket = settings.includeOnMarket
        let channel = settings.channel
        DispatchQueue.concurrentPerform(iterations: ranges.count) { part in
            parts.set(part, Result {
                try self.read { db in
                    try Self.fetchCandidates(db, filter: filter, arguments: queryArguments, range: ranges[part], includeOnMarket: includeOnMarket,
                                             standardize: channel == .mail)
                }
            })
        }
        let fetched = try parts.all()
        // Rows come by property (the scores key), a home's prospects together by prospect id
        // (the prospects_by_property index): sort the homes, not the rows (moving 125k large
        // structs was 0.2 s), then copy each row once, in order.
        var starts: [(part: Int, row: Int)] = []
        for (p, part) in fetched.enumerated() {
            for index in part.rows.indices where index == 0 || part.rows[index].propertyID != part.rows[index - 1].propertyID {
                starts.append((p, index))
            }
        }
        starts.sort { a, b in
            let x = fetched[a.part].rows[a.row], y = fetched[b.part].rows[b.row]
            return x.probability != y.probability ? x.probability > y.probability : x.propertyID < y.propertyID
        }
        var ordered: [ExportCandidate] = []
        var homeStarts: [Int] = []
        ordered.reserveCapacity(fetched.reduce(0) { $0 + $1.rows.count })
        homeStarts.reserveCapacity(starts.count)
        for start in starts {
            homeStarts.append(ordered.count)
            let rows = fetched[start.part].rows
            var index = start.row
            repeat { ordered.append(rows[index]); index += 1 } while index < rows.count && rows[index].propertyID == rows[start.row].propertyID
        }
        return OrderedCandidates(rows: ordered, homeStarts: homeStarts, onMarket: fetched.flatMap(\.onMarket))
    }

    /// The candidate rows of one range of property ids, and the on-market homes (probability,
    /// whether a prospect) when they are not to be exported.
    static func fetchCandidates(_ db: Database, filter: String, arguments: StatementArguments, range: PropertyRange, includeOnMarket: Bool,
                                standardize: Bool) throws -> CandidatePart {
        var rangeFilter = ""
        var arguments = arguments
        if let lower = range.lower { rangeFilter += " AND s.property_id >= :lower"; arguments += ["lower": lower] }
        if let upper = range.upper { rangeFilter += " AND s.property_id < :upper"; arguments += ["upper": upper] }
        // Raw column reads: decoding 125k rows of 24 columns through GRDB `Row` took 0.6 s.
        let statement = try db.makeStatement(sql: """
            SELECT s.property_id, s.probability, s.on_market, s.reason1, s.reason2, s.reason3,
                   p.address, p.city, p.state, p.zip, p.zip4,
                   c.prospect_id, c.first_name, c.last_name, c.mailing_address, c.mailing_city, c.mailing_state,
                   c.mailing_zip, c.mailing_zip4, c.email, c.phone, c.do_not_mail, c.do_not_email, c.do_not_call, s.rank
            FROM scores s
            JOIN properties p ON p.property_id = s.property_id
            LEFT JOIN prospects c ON c.property_id = s.property_id
            WHERE s.run_id = :run AND \(filter)\(rangeFilter)
            """)
        try statement.setArguments(arguments)
        let raw = try RawStatement(db, reading: statement)
        let c = try CandidateColumns(raw)
        var part = CandidatePart()
        while try raw.step() {
            let onMarket = raw.int64(c.onMarket) != 0
            if onMarket, !includeOnMarket {
                part.onMarket.append((raw.double(c.probability), !raw.isNull(c.prospectID)))
                continue
            }
            var candidate = ExportCandidate(
                propertyID: raw.text(c.propertyID) ?? "", probability: raw.double(c.probability),
                rank: raw.isNull(c.rank) ? nil : Int(raw.int64(c.rank)), onMarket: onMarket,
                reasons: c.reasons.compactMap { raw.text($0) },
                propertyAddress: raw.text(c.address) ?? "", propertyCity: raw.text(c.city) ?? "", propertyState: raw.text(c.state) ?? "",
                propertyZip: raw.text(c.zip) ?? "", propertyZip4: raw.text(c.zip4), prospectID: raw.text(c.prospectID),
                firstName: raw.text(c.firstName) ?? "", lastName: raw.text(c.lastName) ?? "",
                mailingAddress: raw.text(c.mailingAddress), mailingCity: raw.text(c.mailingCity), mailingState: raw.text(c.mailingState),
                mailingZip: raw.text(c.mailingZip), mailingZip4: raw.text(c.mailingZip4), email: raw.text(c.email), phone: raw.text(c.phone),
                doNotMail: raw.int64(c.doNotMail) != 0, doNotEmail: raw.int64(c.doNotEmail) != 0, doNotCall: raw.int64(c.doNotCall) != 0)
            if standardize { candidate.standardizeDelivery() }
            part.rows.append(candidate)
        }
        return part
    }
}

/// The candidate query's columns, resolved by name once a query.
private struct CandidateColumns {
    let propertyID, probability, onMarket, rank, address, city, state, zip, zip4: Int32
    let prospectID, firstName, lastName, mailingAddress, mailingCity, mailingState, mailingZip, mailingZip4: Int32
    let email, phone, doNotMail, doNotEmail, doNotCall: Int32
    let reasons: [Int32]

    init(_ statement: RawStatement) throws {
        func c(_ name: String) throws -> Int32 { try statement.column(name) }
        (propertyID, probability, onMarket, rank) = (try c("property_id"), try c("probability"), try c("on_market"), try c("rank"))
        (address, city, state, zip, zip4) = (try c("address"), try c("city"), try c("state"), try c("zip"), try c("zip4"))
        (prospectID, firstName, lastName) = (try c("prospect_id"), try c("first_name"), try c("last_name"))
        (mailingAddress, mailingCity, mailingState) = (try c("mailing_address"), try c("mailing_city"), try c("mailing_state"))
        (mailingZip, mailingZip4, email, phone) = (try c("mailing_zip"), try c("mailing_zip4"), try c("email"), try c("phone"))
        (doNotMail, doNotEmail, doNotCall) = (try c("do_not_mail"), try c("do_not_email"), try c("do_not_call"))
        reasons = [try c("reason1"), try c("reason2"), try c("reason3")]
    }
}
