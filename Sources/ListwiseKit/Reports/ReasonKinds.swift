// Groups stored reason phrases by kind, so the report can say which reasons are common among High
// homes: "owned 11 years" and "owned 38 years" are one kind (the feature behind them).
import Foundation

/// A kind of reason: the feature behind phrases that carry a home's own number, or the phrase itself
/// when it carries none ("absentee owner", "condo", "no loan on record").
public struct ReasonKind: Hashable, Sendable {
    public var key: String
    public var label: String
}

enum ReasonKinds {
    /// The phrase with each number (digits, optionally with a decimal part) replaced by "#".
    static func shape(_ phrase: String) -> String {
        var out = "", characters = Array(phrase), index = 0
        while index < characters.count {
            guard characters[index].isASCII, characters[index].isNumber else {
                out.append(characters[index])
                index += 1
                continue
            }
            while index < characters.count, characters[index].isASCII, characters[index].isNumber { index += 1 }
            if index + 1 < characters.count, characters[index] == ".", characters[index + 1].isNumber {
                index += 1
                while index < characters.count, characters[index].isASCII, characters[index].isNumber { index += 1 }
            }
            out.append("#")
        }
        return out
    }

    /// The first number in a phrase (to show the lowest and highest values of a kind); "once" is 1, or
    /// "sold once in 10 years" would rank above "sold 2 times in 10 years".
    static func firstNumber(_ phrase: String) -> Double? {
        let scalars = phrase.replacingOccurrences(of: " once ", with: " 1 ").unicodeScalars
        guard let start = scalars.firstIndex(where: { CharacterSet.decimalDigits.contains($0) }) else { return nil }
        let digits = scalars[start...].prefix { CharacterSet.decimalDigits.contains($0) || $0 == "." }
        return Double(String(String.UnicodeScalarView(digits)).trimmingCharacters(in: CharacterSet(charactersIn: ".")))
    }

    /// Phrase shapes → feature, generated from `Reasons.phrase` itself, so that its wording can change
    /// without this table going stale.
    static let featureByShape: [String: RawFeature] = {
        var table: [String: RawFeature] = [:]
        let samples: [Double] = [.nan, 0, 0.3, 0.7, 1, 1.2, 2, 2.5, 6, 12]
        for feature in RawFeature.allCases {
            for value in samples + (feature == .rateLockIn ? [-1, -2.5] : []) {
                let key = shape(Reasons.phrase(feature, value))
                if table[key] == nil { table[key] = feature }
            }
        }
        return table
    }()

    static func label(_ feature: RawFeature) -> String {
        switch feature {
        case .tenureYears: return "years owned"
        case .ownerAge: return "owner's age"
        case .absentee: return "absentee owner"
        case .corporate: return "owned by a company or trust"
        case .yearsSinceLoan: return "years since the loan"
        case .loanToValue: return "equity (loan share of value)"
        case .rateLockIn: return "loan rate against today's market"
        case .appreciation: return "value change since purchase"
        case .monthsSinceDelisting: return "listing withdrawn"
        case .defaultLast2Years: return "notice of default"
        case .priorSales10Years: return "sales in the last 10 years"
        case .homeAge: return "age of the home"
        case .livingSqft: return "living area"
        case .lotSqft: return "lot size"
        case .bedrooms: return "bedrooms"
        case .bathrooms: return "bathrooms"
        case .propertyType: return "property type"
        case .zipListingRate36Months: return "busy zip"
        }
    }

    static func kind(of phrase: String) -> ReasonKind {
        let phraseShape = shape(phrase)
        guard phraseShape != phrase else { return ReasonKind(key: "phrase:" + phrase, label: phrase) }
        if let feature = featureByShape[phraseShape] {
            return ReasonKind(key: "feature:" + feature.name, label: label(feature))
        }
        return ReasonKind(key: "shape:" + phraseShape, label: phraseShape.replacingOccurrences(of: "#", with: "N"))
    }
}

/// How many High homes give a kind of reason, with its lowest and highest phrases.
public struct ReasonRow: Sendable, Equatable {
    public var kind: String
    public var homes: Int
    /// Of all High homes.
    public var share: Double
    public var lowest: String, highest: String
}

extension TerritoryReport {
    /// The most common kinds of reason among High homes, most common first (a home counts once per kind).
    public func highReasons(limit: Int = 10) -> [ReasonRow] {
        struct Tally { var label: String, homes = 0, lowest: (Double, String)? = nil, highest: (Double, String)? = nil }
        var tallies: [String: Tally] = [:]
        var highHomes = 0
        var kindOf: [String: ReasonKind] = [:]
        for home in homes where home.tier == "High" {
            highHomes += 1
            var seen = Set<String>()
            for phrase in home.reasons {
                let kind = kindOf[phrase] ?? ReasonKinds.kind(of: phrase)
                kindOf[phrase] = kind
                var tally = tallies[kind.key] ?? Tally(label: kind.label)
                if seen.insert(kind.key).inserted { tally.homes += 1 }
                let value = ReasonKinds.firstNumber(phrase) ?? 0
                if tally.lowest == nil || value < tally.lowest!.0 { tally.lowest = (value, phrase) }
                if tally.highest == nil || value > tally.highest!.0 { tally.highest = (value, phrase) }
                tallies[kind.key] = tally
            }
        }
        let rows = tallies.values.map {
            ReasonRow(kind: $0.label, homes: $0.homes, share: Double($0.homes) / Double(max(highHomes, 1)),
                      lowest: $0.lowest?.1 ?? "", highest: $0.highest?.1 ?? "")
        }
        return Array(rows.sorted { $0.homes != $1.homes ? $0.homes > $1.homes : $0.kind < $1.kind }.prefix(limit))
    }
}
