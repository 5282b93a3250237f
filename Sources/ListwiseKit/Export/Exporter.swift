// Campaign exports (SPEC §4): the best homes of a score run, their prospects filtered by
// suppression, do-not-contact flags, frequency cap and deliverability, shaped for a channel
// (mail households, email tools, ad-platform customer lists), and the campaign history.
import Foundation
import GRDB

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
}

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
    static func assemble(_ selection: CandidateSelection, suppressions: SuppressionList,
                         recentlyContacted: Set<String>) async throws -> PreparedExport {
        let settings = selection.settings, run = selection.run
        var builder = ExportBuilder(settings: settings, suppressions: suppressions, recentlyContacted: recentlyContacted)
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

/// What threads hand back, one slot each, each set once: the export's two halves of the run,
/// and the list file written beside the history insert.
final class ThreadResults<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<Value, any Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<Value, any Error>) {
        lock.lock()
        results[index] = result
        lock.unlock()
    }

    /// Every slot's value in order, or the first error (call once every thread is done).
    func all() throws -> [Value] {
        lock.lock()
        defer { lock.unlock() }
        return try results.map { try $0!.get() }
    }
}

/// The global opt-out list, loaded whole (it is small next to the prospects).
struct SuppressionList {
    var emails: Set<String> = []
    var phones: Set<String> = []
    var addresses: Set<String> = []

    static func addressKey(_ address: StandardAddress, zip: String) -> String { "\(address.line1)|\(address.line2)|\(zip)" }

    mutating func add(kind: String, value: String) {
        switch kind {
        case "email": emails.insert(value)
        case "phone": phones.insert(value)
        default: addresses.insert(value)
        }
    }

    func contains(_ candidate: ExportCandidate) -> Bool {
        if !emails.isEmpty, let email = ContactNormalization.validEmail(candidate.email), emails.contains(email) { return true }
        if !phones.isEmpty, let phone = ContactNormalization.phoneDigits(candidate.phone), phones.contains(phone) { return true }
        guard !addresses.isEmpty else { return false }
        for (street, zip) in [(candidate.propertyAddress, candidate.propertyZip),
                              (candidate.mailingAddress ?? "", candidate.mailingZip ?? "")] where !street.isEmpty {
            let address = AddressStandardizer.standardize(street)
            if addresses.contains(Self.addressKey(address, zip: zip)) || addresses.contains(Self.addressKey(address, zip: "")) { return true }
        }
        return false
    }
}

extension AppDatabase {
    /// Selects, filters and renders an export without recording it: the caller writes it
    /// (`writeExport` for a file, or itself to standard output) and then records it.
    public func prepareExport(_ settings: ExportSettings) async throws -> PreparedExport {
        try PreparedExport.checkCampaign(settings)
        let run = try scoreRun(id: settings.runID, territory: settings.territory)
        try PreparedExport.check(run, settings: settings)
        let lists = try read { db in
            let suppressions = try Self.suppressionList(db)
            var recent: Set<String> = []
            if let days = settings.excludeContactedWithinDays {
                let since = Self.timestamp(settings.now.addingTimeInterval(-Double(days) * 86_400))
                recent = Set(try String.fetchAll(db, sql: """
                    SELECT h.prospect_id FROM exports e JOIN contact_history h ON h.export_id = e.id WHERE e.exported_at >= ?
                    """, arguments: [since]))
            }
            return (suppressions, recent)
        }
        let ranges = try exportRanges(run: run, settings: settings)
        let selection = CandidateSelection(run: run, settings: settings) { filter in
            try self.orderedCandidates(filter, run: run, ranges: ranges, settings: settings)
        }
        return try await PreparedExport.assemble(selection, suppressions: lists.0, recentlyContacted: lists.1)
    }

    /// Writes the export to `path` atomically with owner-only permissions (0600) and records it,
    /// as one step: the list is written to a temporary file beside `path`, then the history
    /// is inserted, the file renamed into place and the transaction committed. A failure at
    /// any point leaves neither a partial file nor a history entry. (The list is rendered and
    /// written on another thread while the history is inserted: 0.2 s of a 100k-home export.)
    public func writeExport(_ export: PreparedExport, to path: String) throws {
        let temporary = Self.temporaryPath(beside: path)
        let written = ThreadResults<Void>(count: 1)
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            written.set(0, Result { try Self.writePrivateFile(export.content, to: temporary) })
        }
        var renamed = false
        do {
            try record(export, destination: path) {
                group.wait()
                _ = try written.all()
                try Self.moveIntoPlace(temporary, path)
                renamed = true
            }
        } catch {
            group.wait()
            unlink(renamed ? path : temporary)
            throw error
        }
    }

    /// Records an export already written elsewhere (standard output).
    public func recordExport(_ export: PreparedExport, destination: String = "-") throws {
        try record(export, destination: destination) {}
    }

    /// The history rows of one export in one transaction; `beforeCommit` runs last inside it.
    private func record(_ export: PreparedExport, destination: String, beforeCommit: () throws -> Void) throws {
        let now = Self.timestamp(export.settings.now)
        try writer.write { db in
            try db.execute(sql: "INSERT INTO campaigns (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                           arguments: [export.settings.campaign, now])
            try db.execute(sql: """
                INSERT INTO exports (campaign, channel, run_id, territory, selection, destination, exported_at, rows, prospects)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [export.settings.campaign, export.settings.channel.rawValue, export.summary.runID,
                                 export.settings.territory, export.settings.selection.description, destination, now,
                                 export.summary.exportedRows, export.summary.exportedProspects])
            let exportID = db.lastInsertedRowID
            // Raw binds: one row a prospect, 100k+ for a large mailing.
            let insert = try RawStatement(db, sql: "INSERT OR IGNORE INTO contact_history (export_id, prospect_id) VALUES (?, ?)", persistent: true)
            for id in export.prospectIDs { try insert.run([.integer(Int(exportID)), .text(id)]) }
            try beforeCommit()
        }
    }

    /// Where a list is written before it is renamed to `path`: beside it, hidden, per process.
    static func temporaryPath(beside path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
    }

    /// Renames the written `temporary` file to `path`.
    static func moveIntoPlace(_ temporary: String, _ path: String) throws {
        guard rename(temporary, path) == 0 else {
            throw ListwiseError.runtime("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Creates `path` (replacing a leftover) with mode 0600 and writes `data` durably.
    static func writePrivateFile(_ data: Data, to path: String) throws {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw ListwiseError.usage("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < bytes.count {
                let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                guard written > 0 else {
                    let message = String(cString: strerror(errno))
                    unlink(path)
                    throw ListwiseError.runtime("cannot write \(path): \(message)")
                }
                offset += written
            }
        }
        guard fsync(fd) == 0 else {
            unlink(path)
            throw ListwiseError.runtime("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func suppressionList(_ db: Database) throws -> SuppressionList {
        var list = SuppressionList()
        for row in try Row.fetchAll(db, sql: "SELECT kind, value FROM suppressions") { list.add(kind: row[0], value: row[1]) }
        return list
    }

    /// Prepares, writes and records an export: to `path` (atomically, 0600) or, when `path` is
    /// nil, through `emit` (standard output), then recorded.
    public func export(_ settings: ExportSettings, to path: String?, emit: (Data) throws -> Void) async throws -> PreparedExport {
        let export = try await prepareExport(settings)
        if let path {
            try writeExport(export, to: path)
        } else {
            try emit(export.content)
            try recordExport(export)
        }
        return export
    }
}
