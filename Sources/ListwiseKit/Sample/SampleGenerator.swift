// A deterministic synthetic county: properties, owners (full deed history), prospects (today's
// owners) and events, where the monthly chance of listing depends on tenure, owner age, rate
// lock-in, equity, absentee/corporate ownership, defaults, withdrawn listings and the zip's
// turnover — non-linearly — so that a model has something real to learn.
import Foundation

public struct SampleSettings: Sendable {
    public var properties: Int
    public var seed: UInt64
    /// The last day of the simulated history.
    public var endYear = 2025
    /// The simulation of listings starts in this year; earlier owners come from an initial draw.
    public var startYear = 1995
    /// One VALUATION (AVM) per property every this many years.
    public var valuationEveryYears = 4
    /// The order of the events, owners and prospects files (properties stay in property order).
    public var order = SampleOrder.property

    public init(properties: Int, seed: UInt64) {
        self.properties = properties
        self.seed = seed
    }
}

public struct SampleCounts: Equatable, Sendable {
    public var properties = 0, owners = 0, prospects = 0, events = 0
}

/// SplitMix64: small, fast, and good enough for synthetic data; seeded per property so that a
/// property's history does not depend on how many came before it.
struct SampleRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * uniform() }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func chance(_ p: Double) -> Bool { uniform() < p }
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}

public struct SampleGenerator {
    public let settings: SampleSettings
    private let zips: [SampleZip]
    private let rates = MarketRates.standard

    public init(settings: SampleSettings) {
        self.settings = settings
        var random = SampleRandom(seed: settings.seed ^ 0x5A17_C0DE)
        let zipCount = max(4, min(400, settings.properties / 1500))
        let cityCount = max(2, zipCount / 3)
        zips = (0..<zipCount).map { index in
            SampleZip(
                code: String(format: "%05d", 94_500 + index * 3),
                city: SampleNames.cities[(index % cityCount) % SampleNames.cities.count],
                latitude: 37.6 + random.uniform(-0.35, 0.35),
                longitude: -122.1 + random.uniform(-0.35, 0.35),
                priceLevel: exp(random.normal() * 0.35) * 520_000,
                growth: random.uniform(0.995, 1.03),
                turnover: exp(random.normal() * 0.35))
        }
    }

    /// Writes the four CSV files into `folder`; `progress` gets the number of properties done.
    public func write(to folder: String, progress: ((Int) -> Void)? = nil) throws -> SampleCounts {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func open(_ name: String, _ header: String) throws -> BufferedFile {
            try BufferedFile(path: (folder as NSString).appendingPathComponent(name), header: header)
        }
        let properties = try open("properties.csv",
            "property_id,address,city,state,zip,latitude,longitude,property_type,bedrooms,bathrooms,living_sqft,lot_sqft,year_built,assessed_value,owner_occupied")
        let owners = try open("owners.csv", "property_id,owner_since,owner_birth_year,absentee,corporate")
        let prospects = try open("prospects.csv",
            "prospect_id,property_id,first_name,last_name,owner_birth_year,mailing_address,mailing_city,mailing_state,mailing_zip,email,phone,do_not_mail,do_not_email,do_not_call")
        let events = try open("events.csv", "property_id,event_type,event_date,amount,rate")
        var counts = SampleCounts()
        var prospectNumber = 0
        for index in 0..<settings.properties {
            let home = simulate(index: index)
            properties.line(home.propertyLine)
            for line in home.ownerLines { owners.line(line) }
            for line in home.eventLines { events.line(line) }
            for var line in home.prospectLines {
                prospectNumber += 1
                line = "C\(String(format: "%07d", prospectNumber)),\(line)"
                prospects.line(line)
            }
            counts.properties += 1
            counts.owners += home.ownerLines.count
            counts.events += home.eventLines.count
            counts.prospects += home.prospectLines.count
            if index % 10_000 == 9_999 { progress?(index + 1) }
        }
        for file in [properties, owners, prospects, events] { try file.close() }
        for (name, dateColumn) in [("events.csv", 2), ("owners.csv", 1), ("prospects.csv", nil) as (String, Int?)] {
            try FileReorder.reorder(path: (folder as NSString).appendingPathComponent(name), order: settings.order, dateColumn: dateColumn,
                                    seed: settings.seed)
        }
        return counts
    }

    // MARK: - One property's life

    private struct Owner {
        var since: Day
        var birthYear: Int
        var absentee: Bool
        var corporate: Bool
        var firstName: String
        var lastName: String
        var purchasePrice: Double
        var loanRate: Double?
        var loanAmount: Double
    }

    struct Home {
        var propertyLine = ""
        var ownerLines: [String] = []
        var eventLines: [String] = []
        var prospectLines: [String] = []
    }

    func simulate(index: Int) -> Home {
        var random = SampleRandom(seed: settings.seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(index) &* 0x9E37_79B9)
        for _ in 0..<3 { _ = random.next() }
        let zip = zips[Int(Double(zips.count) * pow(random.uniform(), 1.3))]
        let id = "06001" + String(format: "%06d", index + 1)
        let type = pickType(&random)
        let beds = type == "CONDO" ? random.int(0...3) : type == "MULTI" ? random.int(4...8) : random.int(2...5)
        let baths = max(1.0, Double(beds) * 0.5 + Double(random.int(0...3)) * 0.5)
        let living = Int(Double(450 + beds * 420) * random.uniform(0.8, 1.3)) / 10 * 10
        let lot: Int? = type == "CONDO" ? nil : Int(Double(living) * random.uniform(1.5, 6)) / 50 * 50
        let yearBuilt = pickYearBuilt(&random)
        let quality = exp(random.normal() * 0.2) * Double(living) / 1600
        let endDay = Day(year: settings.endYear, month: 12, day: 31)

        var home = Home()
        var owner: Owner
        var defaultDay: Day?
        var delistDay: Day?
        var events: [(Day, String)] = []

        func value(at day: Day) -> Double {
            zip.priceLevel * quality * Self.priceIndex(day.fractionalYear) * pow(zip.growth, day.fractionalYear - 2000)
        }
        func newOwner(since: Day, price: Double, random: inout SampleRandom) -> Owner {
            let corporate = random.chance(type == "MULTI" ? 0.2 : 0.05)
            let absentee = corporate || random.chance(type == "CONDO" || type == "MULTI" ? 0.25 : 0.12)
            let age = Int(24 + 30 * pow(random.uniform(), 1.4) + (random.chance(0.15) ? 20 : 0))
            var newcomer = Owner(since: since, birthYear: since.year - age, absentee: absentee, corporate: corporate,
                                 firstName: random.pick(SampleNames.first),
                                 lastName: corporate ? random.pick(SampleNames.companies) : random.pick(SampleNames.last),
                                 purchasePrice: price, loanRate: nil, loanAmount: 0)
            if random.chance(corporate ? 0.4 : 0.82) {
                let market = rates.ratePercent(year: since.year, month: since.month).rate
                let rate = ((market + 0.1 + random.normal() * 0.25) * 8).rounded() / 8
                newcomer.loanRate = max(1.5, rate)
                newcomer.loanAmount = price * random.uniform(0.6, 0.95)
            }
            return newcomer
        }
        func record(_ day: Day, _ type: String, amount: Double? = nil, rate: Double? = nil) {
            let amountText = amount.map { String(Int(($0 / 1000).rounded()) * 1000) } ?? ""
            let rateText = rate.map { String($0) } ?? ""
            events.append((day, "\(id),\(type),\(day.iso),\(amountText),\(rateText)"))
        }
        func recordOwner(_ o: Owner, random: inout SampleRandom) {
            let birth = random.chance(0.06) ? "" : String(o.birthYear)
            home.ownerLines.append("\(id),\(o.since.iso),\(birth),\(o.absentee ? "Y" : "N"),\(o.corporate ? "Y" : "N")")
        }
        func buy(_ day: Day, price: Double, random: inout SampleRandom) -> Owner {
            let buyer = newOwner(since: day, price: price, random: &random)
            record(day, "SALE", amount: price)
            if let rate = buyer.loanRate { record(day, "MORTGAGE", amount: buyer.loanAmount, rate: rate) }
            recordOwner(buyer, random: &random)
            return buyer
        }

        // The owner at the start: bought between the year built (or 1970) and the start year.
        let startDay = Day(year: settings.startYear, month: 1, day: 1)
        let firstPurchase: Day
        if yearBuilt >= settings.startYear {
            firstPurchase = Day(year: yearBuilt, month: random.int(1...12), day: random.int(1...28))
        } else {
            let from = max(yearBuilt, 1970)
            firstPurchase = Day(year: random.int(from...(settings.startYear - 1)), month: random.int(1...12), day: random.int(1...28))
        }
        owner = buy(firstPurchase, price: value(at: firstPurchase) * random.uniform(0.92, 1.05), random: &random)

        // Month by month: refinance, default, listing, and what becomes of a listing.
        var month = max(startDay, firstPurchase.nextMonthStart)
        let valuationPhase = random.int(0...(settings.valuationEveryYears * 12 - 1))
        var listedUntil: Day?
        var listPrice = 0.0
        var sells = false
        while month <= endDay {
            let market = rates.ratePercent(year: month.year, month: month.month).rate
            let current = value(at: month)
            if (month.monthIndex + valuationPhase) % (settings.valuationEveryYears * 12) == 0 {
                record(month.withDay(random.int(1...28)), "VALUATION", amount: current * exp(random.normal() * 0.05))
            }
            if let until = listedUntil {
                if month >= until {
                    let day = until
                    if sells {
                        owner = buy(day, price: listPrice * random.uniform(0.93, 1.02), random: &random)
                        defaultDay = nil
                    } else {
                        record(day, "DELISTING")
                        delistDay = day
                    }
                    listedUntil = nil
                }
                month = month.nextMonthStart
                continue
            }
            if let rate = owner.loanRate, market < rate - 0.9, random.chance(0.015) {
                let day = month.withDay(random.int(1...28))
                owner.loanRate = max(1.5, ((market + random.normal() * 0.2) * 8).rounded() / 8)
                owner.loanAmount = current * random.uniform(0.5, 0.8)
                record(day, "MORTGAGE", amount: owner.loanAmount, rate: owner.loanRate)
            }
            let ltv = owner.loanAmount / current
            let crisis = (2008...2012).contains(month.year)
            if defaultDay == nil, owner.loanRate != nil,
               random.chance(0.0001 * (ltv > 0.9 ? 6 : 1) * (crisis ? 4 : 1)) {
                defaultDay = month.withDay(random.int(1...28))
                record(defaultDay!, "DEFAULT")
            }
            let hazard = listingHazard(at: month, owner: owner, zip: zip, type: type, market: market,
                                       value: current, ltv: ltv, defaultDay: defaultDay, delistDay: delistDay)
            if random.chance(hazard) {
                let day = month.withDay(random.int(1...28))
                listPrice = current * random.uniform(0.98, 1.1)
                record(day, "LISTING", amount: listPrice)
                let months = random.int(1...5)
                listedUntil = day.addingMonths(months)
                sells = random.chance(crisis ? 0.55 : 0.8)
            }
            month = month.nextMonthStart
        }

        events.sort { $0.0 < $1.0 }
        home.eventLines = events.map(\.1)

        // Today's facts: properties.csv (assessed value and occupancy are today's, SPEC §2).
        let assessed = Int(owner.purchasePrice * pow(1.02, Double(endDay.year - owner.since.year)) / 100) * 100
        let street = SampleNames.streetAddress(&random)
        let unit = type == "CONDO" ? random.pick([" Apt \(random.int(1...40))", " Unit \(random.int(1...12))B", " #\(random.int(1...30))"]) : ""
        let zipText = random.chance(0.3) ? "\(zip.code)-\(String(format: "%04d", random.int(1...9999)))" : zip.code
        let latitude = zip.latitude + random.normal() * 0.012
        let longitude = zip.longitude + random.normal() * 0.012
        let typeText = random.chance(0.03) ? "" : type
        let bathsText = baths == baths.rounded() ? String(Int(baths)) : String(baths)
        home.propertyLine = [
            id, csvQuoted(street + unit), zip.city, "CA", zipText,
            String(format: "%.5f", latitude), String(format: "%.5f", longitude), typeText,
            String(beds), bathsText, String(living), lot.map(String.init) ?? "", String(yearBuilt),
            String(assessed), owner.absentee ? "N" : "Y",
        ].joined(separator: ",")

        // Contacts of today's owner: one or two people, or a company; a few have none.
        if !random.chance(0.04) {
            let people = owner.corporate ? 1 : (random.chance(0.3) ? 2 : 1)
            for person in 0..<people {
                let first = owner.corporate ? "" : person == 0 ? owner.firstName : random.pick(SampleNames.first)
                let last = owner.lastName
                let birth = random.chance(0.1) ? "" : String(owner.birthYear + (person == 0 ? 0 : random.int(-4...4)))
                var mailing = ",,,"
                if owner.absentee {
                    let other = SampleNames.streetAddress(&random)
                    let city = random.pick(SampleNames.mailingCities)
                    mailing = "\(csvQuoted(other)),\(city.name),\(city.state),\(city.zip)"
                } else if random.chance(0.25) {
                    mailing = "\(csvQuoted((street + unit).uppercased())),\(zip.city),CA,\(zip.code)"
                }
                let email = Self.email(first: first, last: last, random: &random)
                let phone = random.chance(0.5) ? Self.phone(&random) : ""
                let flags = [random.chance(0.03), random.chance(0.05), random.chance(0.1)].map { $0 ? "Y" : "N" }
                let name = owner.corporate ? "\(first),\(csvQuoted(last))" : "\(first),\(last)"
                home.prospectLines.append(
                    "\(id),\(name),\(birth),\(mailing),\(email),\(phone),\(flags.joined(separator: ","))")
            }
        }
        return home
    }

    /// Monthly probability of listing. Deliberately non-linear: a tenure bump at 5–10 years and a
    /// rise after 20, age effects past 65 and 82, rate lock-in, equity, recent withdrawals.
    private func listingHazard(at month: Day, owner: Owner, zip: SampleZip, type: String, market: Double,
                               value: Double, ltv: Double, defaultDay: Day?, delistDay: Day?) -> Double {
        let tenure = month.fractionalYear - owner.since.fractionalYear
        var h = 0.0052 * zip.turnover
        let tenureEffect: Double
        if tenure < 1 { tenureEffect = 0.15 } else if tenure < 2 { tenureEffect = 0.45 } else {
            tenureEffect = 0.6 + 0.9 * exp(-pow((tenure - 7.5) / 3.2, 2)) + 0.7 / (1 + exp(-(tenure - 22) / 3))
        }
        h *= tenureEffect
        if !owner.corporate {
            let age = Double(month.year - owner.birthYear)
            var ageEffect = age < 35 ? 1.25 : 1.0
            if age > 65 { ageEffect += 0.045 * (age - 65) }
            if age > 82 { ageEffect += 0.12 * (age - 82) }
            h *= ageEffect
        }
        if owner.absentee { h *= 1.35 }
        if owner.corporate { h *= 1.6 }
        if let rate = owner.loanRate {
            let lockIn = market - rate
            h *= lockIn > 0 ? exp(-0.4 * lockIn) : 1 + 0.06 * min(3, -lockIn)
        }
        let appreciation = value / max(owner.purchasePrice, 1)
        h *= 0.7 + 0.3 * min(log(max(appreciation, 0.3)) + 1, 2.5)
        if ltv > 1.0 && defaultDay == nil { h *= 0.55 }
        if let defaultDay, month.daysSince(defaultDay) < 730 { h *= 3.2 }
        if let delistDay {
            let months = Double(month.daysSince(delistDay)) / 30.4
            h *= 1 + 2.2 * exp(-months / 9)
        }
        switch type {
        case "CONDO": h *= 1.2
        case "MULTI": h *= 0.8
        case "MOBILE": h *= 1.1
        default: break
        }
        return min(h, 0.25)
    }

    /// A rough national house-price index, 2000 = 1.0.
    static func priceIndex(_ year: Double) -> Double {
        let knots: [(Double, Double)] = [(1960, 0.12), (1970, 0.2), (1980, 0.42), (1990, 0.68), (1996, 0.78),
                                         (2000, 1.0), (2006, 1.62), (2009, 1.18), (2012, 1.05), (2016, 1.4),
                                         (2020, 1.75), (2022, 2.3), (2026, 2.4)]
        if year <= knots[0].0 { return knots[0].1 }
        for (a, b) in zip(knots, knots.dropFirst()) where year <= b.0 {
            return a.1 + (b.1 - a.1) * (year - a.0) / (b.0 - a.0)
        }
        return knots.last!.1
    }

    private func pickType(_ random: inout SampleRandom) -> String {
        let u = random.uniform()
        switch u {
        case ..<0.64: return "SFR"
        case ..<0.80: return "CONDO"
        case ..<0.88: return "TOWNHOUSE"
        case ..<0.94: return "MULTI"
        case ..<0.97: return "MOBILE"
        default: return "OTHER"
        }
    }

    private func pickYearBuilt(_ random: inout SampleRandom) -> Int {
        let u = random.uniform()
        if u < 0.08 { return random.int(1900...1939) }
        if u < 0.7 { return random.int(1940...1989) }
        if u < 0.92 { return random.int(1990...2009) }
        return random.int(2010...(settings.endYear - 1))
    }

    static func email(first: String, last: String, random: inout SampleRandom) -> String {
        guard random.chance(0.6) else { return "" }
        let domain = random.pick(["example.com", "mail.example.org", "inbox.example.net", "EXAMPLE.COM"])
        let local = first.isEmpty ? "info" : "\(first.lowercased()).\(last.lowercased())\(random.int(1...99))"
        switch random.uniform() {
        case ..<0.03: return "\(local)@"                  // invalid: no domain
        case ..<0.05: return "n/a"                        // invalid
        case ..<0.1: return "\(local.uppercased())@\(domain)"
        default: return "\(local)@\(domain)"
        }
    }

    static func phone(_ random: inout SampleRandom) -> String {
        let area = random.pick([510, 415, 650, 925, 408]), line = random.int(100...9999)
        switch random.int(0...2) {
        case 0: return "(\(area)) 555-\(String(format: "%04d", line))"
        case 1: return "\(area)-555-\(String(format: "%04d", line))"
        default: return "+1 \(area) 555 \(String(format: "%04d", line))"
        }
    }
}

struct SampleZip {
    let code: String
    let city: String
    let latitude: Double
    let longitude: Double
    let priceLevel: Double
    let growth: Double
    let turnover: Double
}

/// A calendar day, enough arithmetic for the simulation.
struct Day: Comparable {
    let year: Int, month: Int, day: Int

    var iso: String { String(format: "%04d-%02d-%02d", year, month, day) }
    var monthIndex: Int { year * 12 + month - 1 }
    var fractionalYear: Double { Double(year) + (Double(month) - 1 + Double(day - 1) / 31) / 12 }
    var nextMonthStart: Day { month == 12 ? Day(year: year + 1, month: 1, day: 1) : Day(year: year, month: month + 1, day: 1) }
    func withDay(_ day: Int) -> Day { Day(year: year, month: month, day: day) }
    func addingMonths(_ months: Int) -> Day {
        let index = monthIndex + months
        return Day(year: index / 12, month: index % 12 + 1, day: min(day, 28))
    }
    /// Approximate days from `other` to self (30.44 days a month).
    func daysSince(_ other: Day) -> Int {
        Int(((fractionalYear - other.fractionalYear) * 365.25).rounded())
    }
    static func < (a: Day, b: Day) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }
}

/// A write buffer over one output file.
final class BufferedFile {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init(path: String, header: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ListwiseError.usage("\(path): cannot create the file")
        }
        self.handle = handle
        buffer.reserveCapacity(1 << 20)
        line(header)
    }

    func line(_ text: String) {
        line(text.utf8)
    }

    func line<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 20 { handle.write(Data(buffer)); buffer.removeAll(keepingCapacity: true) }
    }

    func close() throws {
        handle.write(Data(buffer))
        buffer.removeAll()
        try handle.close()
    }
}
