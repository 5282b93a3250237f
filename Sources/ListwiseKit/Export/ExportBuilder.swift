// A channel's rows from an export's candidates: mail households, email and ad-platform rows,
// every skip counted, the campaign's control group set aside, rendered as CSV or JSON lines.
import Foundation

/// Turns candidates into the channel's rows, counting every skip.
struct ExportBuilder: Sendable {
    let settings: ExportSettings
    let suppressions: SuppressionList
    let recentlyContacted: Set<String>
    /// The campaign's earlier decisions, and this export's as it goes (homes held out or reached).
    private var history: CampaignHistory
    private var draw: HoldoutDraw?
    /// The control group of this export: held-out households (mail, by address key) or people,
    /// each with its prospects.
    private var heldOutGroups: [[String]] = []
    private var heldOutIndex: [String: Int] = [:]
    /// The home of every prospect on the list or held out, for the history.
    private(set) var prospectHomes: [String: String] = [:]
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

    init(settings: ExportSettings, suppressions: SuppressionList, recentlyContacted: Set<String>,
         history: CampaignHistory = CampaignHistory(), holdout: HoldoutSettings? = nil) {
        self.settings = settings
        self.suppressions = suppressions
        self.recentlyContacted = recentlyContacted
        self.history = history
        self.draw = holdout.map(HoldoutDraw.init)
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
        if history.heldOutProspects.contains(prospectID) { return skipCount(.heldOut) }
        prospectHomes[prospectID] = candidate.propertyID
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
        // A home held out stays out; a household held out takes in its other people.
        let homeHeldOut = history.homes[candidate.propertyID]
        if homeHeldOut == true || (homeHeldOut == nil && heldOutIndex[key] != nil) {
            if let index = heldOutIndex[key] {
                heldOutGroups[index].append(prospectID)
                history.homes[candidate.propertyID] = true
                return
            }
            if full { return unselect() }
            return holdOut([prospectID], key: key)
        }
        if let index = householdIndex[key] {
            households[index].names.append((candidate.firstName, candidate.lastName))
            households[index].prospectIDs.append(prospectID)
            skipped[.duplicateHousehold, default: 0] += 1
            if draw != nil { history.homes[candidate.propertyID] = false }
            return
        }
        if full { return unselect() }
        if holdsOut(candidate) { return holdOut([prospectID], key: key) }
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
        if holdsOut(candidate) { return holdOut([prospectID]) }
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
        if holdsOut(candidate) { return holdOut([prospectID]) }
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

    /// Whether a new row of `candidate`'s home goes to the control group: the home's earlier
    /// decision in this campaign, else a draw in its tier (when the export holds out).
    private mutating func holdsOut(_ candidate: ExportCandidate) -> Bool {
        if let heldOut = history.homes[candidate.propertyID] { return heldOut }
        guard draw != nil else { return false }
        let heldOut = draw!.holdsOut(stratum: candidate.tier ?? "on market")
        history.homes[candidate.propertyID] = heldOut
        return heldOut
    }

    private mutating func holdOut(_ prospectIDs: [String], key: String? = nil) {
        if let key { heldOutIndex[key] = heldOutGroups.count }
        heldOutGroups.append(prospectIDs)
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

    var heldOutProspectIDs: [String] { heldOutGroups.flatMap { $0 } }

    func summary(runID: Int64) -> ExportSummary {
        ExportSummary(campaign: settings.campaign, channel: settings.channel, runID: runID, selectedHomes: 0,
                      deepestRank: nil, deepestProbability: nil,
                      selectedProspects: selectedProspects,
                      exportedRows: settings.channel == .mail ? households.count : people.count,
                      exportedProspects: exportedProspectIDs.count,
                      skipped: Dictionary(uniqueKeysWithValues: skipped.map { ($0.key.rawValue, $0.value) }),
                      notice: settings.channel == .ads ? ExportBuilder.housingNotice : nil,
                      holdout: draw?.settings, heldOutRows: heldOutGroups.count, heldOutProspects: heldOutGroups.reduce(0) { $0 + $1.count })
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
