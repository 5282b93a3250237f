// Campaign exports (SPEC §4): the best homes of a score run, their prospects filtered by
// suppression, do-not-contact flags, frequency cap and deliverability, shaped for a channel
// (mail households, email tools, ad-platform customer lists), and the campaign history.
import Foundation
import GRDB
import GRDBSQLite

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
    public var summary: ExportSummary
    let builder: ExportBuilder
    /// The whole file: header and rows (CSV), or one JSON object a line (rendered on each use).
    public var content: Data { builder.render() }
    public var prospectIDs: [String] { builder.exportedProspectIDs }
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
    public func prepareExport(_ settings: ExportSettings) throws -> PreparedExport {
        guard !settings.campaign.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ListwiseError.usage("--campaign must not be empty")
        }
        let run = try scoreRun(id: settings.runID, territory: settings.territory)
        if let territory = settings.territory, run.territory != territory {
            throw ListwiseError.usage("score run \(run.id) is not a run of territory \(territory) (it scored \(run.territory ?? "every home"))")
        }
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
        var builder = ExportBuilder(settings: settings, suppressions: lists.0, recentlyContacted: lists.1)
        var homes = 0, onMarketSkipped = 0
        var deepest: ExportCandidate?
        var deepestRank: Int?
        if case .top(let rows) = settings.selection {
            // N rows that pass the rules, going as deep in the ranking as it takes (SPEC §4).
            (homes, deepest, deepestRank, onMarketSkipped) = try fillTopRows(rows, run: run, settings: settings, builder: &builder)
        } else {
            let candidates = try selectedHomesCandidates(run: run, settings: settings)
            for candidate in candidates.rows { builder.add(candidate) }
            (homes, deepest, onMarketSkipped) = (candidates.homes, candidates.rows.last, candidates.onMarketSkipped)
            deepestRank = candidates.rows.last { $0.rank != nil }?.rank
        }
        for _ in 0..<onMarketSkipped { builder.skip(.onMarket) }
        var summary = builder.summary(runID: run.id)
        summary.selectedHomes = homes
        summary.deepestRank = deepestRank
        summary.deepestProbability = deepest?.probability
        return PreparedExport(settings: settings, summary: summary, builder: builder)
    }

    /// Writes the export to `path` atomically with owner-only permissions (0600) and records it,
    /// as one step: the list is written to a temporary file beside `path`, then the history
    /// is inserted, the file renamed into place and the transaction committed. A failure at
    /// any point leaves neither a partial file nor a history entry. (The list is rendered and
    /// written on another thread while the history is inserted: 0.2 s of a 100k-home export.)
    public func writeExport(_ export: PreparedExport, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
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
                guard rename(temporary, path) == 0 else {
                    throw ListwiseError.runtime("cannot write \(path): \(String(cString: strerror(errno)))")
                }
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
            let insert = try RawInsert(db, sql: "INSERT OR IGNORE INTO contact_history (export_id, prospect_id) VALUES (?, ?)")
            for id in export.prospectIDs { try insert.run([.integer(Int(exportID)), .text(id)]) }
            try beforeCommit()
        }
    }

    /// Creates `path` (replacing a leftover) with mode 0600 and writes `data` durably.
    static func writePrivateFile(_ data: Data, to path: String) throws {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw ListwiseError.usage("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
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
        for row in try Row.fetchAll(db, sql: "SELECT kind, value FROM suppressions") {
            let value: String = row[1]
            switch row[0] as String {
            case "email": list.emails.insert(value)
            case "phone": list.phones.insert(value)
            default: list.addresses.insert(value)
            }
        }
        return list
    }
}

/// Turns candidates into the channel's rows, counting every skip.
struct ExportBuilder: Sendable {
    let settings: ExportSettings
    let suppressions: SuppressionList
    let recentlyContacted: Set<String>
    private var skipped: [SkipReason: Int] = [:]
    private var selectedProspects = 0
    /// Mail: households by standardised address, in order of their best home.
    private var households: [Household] = []
    private var householdIndex: [String: Int] = [:]
    /// Email and ads: one row a person.
    private var people: [[String]] = []
    private var peopleIDs: [String] = []
    private var seenContacts: Set<String> = []
    /// `--top N`: a prospect that would start row N + 1 is left out (not selected, not skipped).
    var rowLimit: Int?
    var rowCount: Int { settings.channel == .mail ? households.count : people.count }
    private var full: Bool { rowLimit.map { rowCount >= $0 } ?? false }

    init(settings: ExportSettings, suppressions: SuppressionList, recentlyContacted: Set<String>) {
        self.settings = settings
        self.suppressions = suppressions
        self.recentlyContacted = recentlyContacted
    }

    struct Household: Sendable {
        var names: [(first: String, last: String)]
        var address: StandardAddress
        var city: String, state: String, zip: String
        var propertyAddress: String
        var probability: Double
        var reasons: [String]
        var prospectIDs: [String]
    }

    mutating func skip(_ reason: SkipReason) {
        skipped[reason, default: 0] += 1
        if reason != .noProspect { selectedProspects += 1 }
    }

    mutating func add(_ candidate: ExportCandidate) {
        guard let prospectID = candidate.prospectID else { skipped[.noProspect, default: 0] += 1; return }
        selectedProspects += 1
        if suppressions.contains(candidate) { return skipCount(.suppressed) }
        switch settings.channel {
        case .mail where candidate.doNotMail: return skipCount(.doNotMail)
        case .email where candidate.doNotEmail: return skipCount(.doNotEmail)
        default: break
        }
        if recentlyContacted.contains(prospectID) { return skipCount(.recentlyContacted) }
        switch settings.channel {
        case .mail: addMail(candidate, prospectID: prospectID)
        case .email: addEmail(candidate, prospectID: prospectID)
        case .ads: addAds(candidate, prospectID: prospectID)
        }
    }

    private mutating func addMail(_ candidate: ExportCandidate, prospectID: String) {
        let delivery = candidate.deliveryAddress
        let standard = candidate.standardDelivery
            ?? (AddressStandardizer.standardize(delivery.street), AddressStandardizer.standardizeCity(delivery.city))
        let address = standard.address
        let zip5 = delivery.zip.trimmedSpaces
        guard address.line1.containsASCIIDigit, zip5.utf8.count == 5, zip5.isASCIIDigits else {
            skipped[.noAddress, default: 0] += 1
            return
        }
        let key = SuppressionList.addressKey(address, zip: zip5)
        if let index = householdIndex[key] {
            households[index].names.append((candidate.firstName, candidate.lastName))
            households[index].prospectIDs.append(prospectID)
            skipped[.duplicateHousehold, default: 0] += 1
            return
        }
        if full { return unselect() }
        let zip4 = (delivery.zip4 ?? "").trimmedSpaces
        householdIndex[key] = households.count
        households.append(Household(
            names: [(candidate.firstName, candidate.lastName)], address: address,
            city: standard.city, state: delivery.state.trimmedSpaces.uppercased(),
            zip: zip4.utf8.count == 4 ? "\(zip5)-\(zip4)" : zip5, propertyAddress: candidate.propertyAddress,
            probability: candidate.probability, reasons: candidate.reasons, prospectIDs: [prospectID]))
    }

    private mutating func addEmail(_ candidate: ExportCandidate, prospectID: String) {
        guard let raw = candidate.email, !raw.trimmedSpaces.isEmpty else { return skipCount(.noEmail) }
        guard let email = ContactNormalization.validEmail(raw) else { return skipCount(.invalidEmail) }
        if seenContacts.contains(email) { return skipCount(.duplicateEmail) }
        if full { return unselect() }
        seenContacts.insert(email)
        people.append([email, candidate.firstName.trimmedSpaces, candidate.lastName.trimmedSpaces,
                       candidate.propertyAddress, Self.probability(candidate.probability)] + Self.padded(candidate.reasons))
        peopleIDs.append(prospectID)
    }

    private mutating func addAds(_ candidate: ExportCandidate, prospectID: String) {
        let email = candidate.doNotEmail ? nil : ContactNormalization.validEmail(candidate.email)
        let phone = candidate.doNotCall ? nil : ContactNormalization.phoneDigits(candidate.phone)
        guard email != nil || phone != nil else { return skipCount(.noEmailOrPhone) }
        // One row a person: an email or phone already on the list is the same person.
        if let email, seenContacts.contains("e:" + email) { return skipCount(.duplicateContact) }
        if let phone, seenContacts.contains("p:" + phone) { return skipCount(.duplicateContact) }
        if full { return unselect() }
        if let email { seenContacts.insert("e:" + email) }
        if let phone { seenContacts.insert("p:" + phone) }
        let delivery = candidate.deliveryAddress
        let zip = String(delivery.zip.filter(\.isNumber).prefix(5))
        let first = ContactNormalization.hashName(candidate.firstName), last = ContactNormalization.hashName(candidate.lastName)
        let hash = ContactNormalization.hashed
        switch settings.adsFormat {
        case .meta:
            // Meta Custom Audiences: every field normalised then hashed, phone digits with country code.
            let city = delivery.city.lowercased().filter { $0.isLetter }
            let state = String(delivery.state.lowercased().filter(\.isLetter).prefix(2))
            people.append([hash(email ?? ""), hash(phone ?? ""), hash(first), hash(last), hash(zip), hash(city), hash(state), hash("us")])
        case .google:
            // Google Customer Match: email, phone (E.164, with "+") and names hashed; country and zip in clear.
            people.append([hash(email ?? ""), hash(phone.map { "+" + $0 } ?? ""), hash(first), hash(last), "US", zip])
        }
        peopleIDs.append(prospectID)
    }

    private mutating func skipCount(_ reason: SkipReason) { skipped[reason, default: 0] += 1 }
    private mutating func unselect() { selectedProspects -= 1 }

    static func padded(_ reasons: [String]) -> [String] { (reasons + ["", "", ""]).prefix(3).map { $0 } }
    /// Six decimals ("0.123457"), without String(format:) (Foundation's was 8 % of an export).
    static func probability(_ p: Double) -> String {
        let micro = Int((p * 1_000_000).rounded())
        let fraction = String(micro % 1_000_000)
        return "\(micro / 1_000_000)." + String(repeating: "0", count: 6 - fraction.utf8.count) + fraction
    }

    /// "John & Mary Smith", "John Smith & Mary Jones", "Current Resident".
    static func householdName(_ names: [(first: String, last: String)]) -> String {
        if names.count == 1 {
            let first = names[0].first.trimmedSpaces, last = names[0].last.trimmedSpaces
            return first.isEmpty ? (last.isEmpty ? "Current Resident" : last) : last.isEmpty ? first : first + " " + last
        }
        var people: [(first: String, last: String)] = []
        for (first, last) in names {
            let person = (first.trimmedSpaces, last.trimmedSpaces)
            if person.0.isEmpty && person.1.isEmpty { continue }
            if !people.contains(where: { $0.first == person.0 && $0.last == person.1 }) { people.append(person) }
        }
        guard !people.isEmpty else { return "Current Resident" }
        func list(_ items: [String]) -> String {
            items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " & " + items.last!
        }
        let lasts = Set(people.map { $0.last.uppercased() })
        if lasts.count == 1, !people[0].last.isEmpty, people.allSatisfy({ !$0.first.isEmpty }) {
            return list(people.map(\.first)) + " " + people[0].last
        }
        return list(people.map { [$0.first, $0.last].filter { !$0.isEmpty }.joined(separator: " ") })
    }

    var header: [String] {
        switch settings.channel {
        case .mail:
            return ["name", "address1", "address2", "city", "state", "zip", "property_address", "probability",
                    "reason1", "reason2", "reason3", "prospect_ids"]
        case .email:
            return ["Email Address", "First Name", "Last Name", "Property Address", "Probability", "Reason 1", "Reason 2", "Reason 3"]
        case .ads:
            switch settings.adsFormat {
            case .meta: return ["email", "phone", "fn", "ln", "zip", "ct", "st", "country"]
            case .google: return ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"]
            }
        }
    }

    /// Calls `body` with each row in order (mail rows are made here, not kept).
    func forEachRow(_ body: ([String]) -> Void) {
        guard settings.channel == .mail else { return people.forEach(body) }
        for household in households {
            body([Self.householdName(household.names), household.address.line1, household.address.line2, household.city,
                  household.state, household.zip, household.propertyAddress, Self.probability(household.probability)]
                 + Self.padded(household.reasons) + [household.prospectIDs.joined(separator: ";")])
        }
    }

    var exportedProspectIDs: [String] {
        settings.channel == .mail ? households.flatMap(\.prospectIDs) : peopleIDs
    }

    func summary(runID: Int64) -> ExportSummary {
        ExportSummary(campaign: settings.campaign, channel: settings.channel, runID: runID, selectedHomes: 0,
                      deepestRank: nil, deepestProbability: nil,
                      selectedProspects: selectedProspects,
                      exportedRows: settings.channel == .mail ? households.count : people.count,
                      exportedProspects: exportedProspectIDs.count,
                      skipped: Dictionary(uniqueKeysWithValues: skipped.map { ($0.key.rawValue, $0.value) }),
                      notice: settings.channel == .ads ? ExportBuilder.housingNotice : nil)
    }

    static let housingNotice = """
        housing is a special ad category: Meta and Google do not allow targeting housing ads by zip code, age or gender, \
        and restrict lookalike audiences; run campaigns from this list under the Housing category
        """

    func render() -> Data {
        var out = ByteWriter()
        let header = self.header
        switch settings.format {
        case .csv:
            out.appendCSVRow(header)
            forEachRow { out.appendCSVRow($0) }
        case .jsonl:
            forEachRow { row in
                out.append("{" + zip(header, row).map { "\(JSONText.quoted($0)):\(JSONText.quoted($1))" }.joined(separator: ",") + "}\n")
            }
        }
        return Data(out.bytes)
    }
}
