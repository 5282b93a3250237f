// Plain-words reasons (SPEC §3): which features raised a home's score most, phrased from the
// home's own values.
import Foundation

public enum Reasons {
    /// A phrase for a raw feature value (NaN = missing).
    public static func phrase(_ feature: RawFeature, _ value: Double) -> String {
        func whole(_ v: Double) -> Int { Int(v.rounded()) }
        if value.isNaN {
            switch feature {
            case .yearsSinceLoan, .loanToValue, .rateLockIn: return "no loan on record"
            case .monthsSinceDelisting: return "never withdrawn from the market"
            case .ownerAge: return "owner's age unknown"
            case .tenureYears: return "no recorded purchase"
            case .appreciation: return "purchase price unknown"
            case .lotSqft: return "no lot of its own"
            default: return "\(feature.name.replacingOccurrences(of: "_", with: " ")) unknown"
            }
        }
        switch feature {
        case .tenureYears: return whole(value) == 1 ? "owned 1 year" : "owned \(whole(value)) years"
        case .ownerAge: return "owner aged \(whole(value))"
        case .absentee: return value > 0.5 ? "absentee owner" : "owner lives there"
        case .corporate: return value > 0.5 ? "owned by a company or trust" : "individual owner"
        case .yearsSinceLoan: return "loan taken \(whole(value)) years ago"
        case .loanToValue:
            return value < 0.5 ? "high equity (loan \(whole(100 * value))% of value)" : "loan \(whole(100 * value))% of value"
        case .rateLockIn:
            return value > 0 ? String(format: "loan rate %.1f points below today's market", value)
                : String(format: "loan rate %.1f points above today's market", -value)
        case .appreciation:
            return value >= 1 ? "value up \(whole(100 * (value - 1)))% since purchase" : "value down \(whole(100 * (1 - value)))% since purchase"
        case .monthsSinceDelisting: return whole(value) == 1 ? "listing withdrawn 1 month ago" : "listing withdrawn \(whole(value)) months ago"
        case .defaultLast2Years: return value > 0.5 ? "notice of default in the last 2 years" : "no recent default notice"
        case .priorSales10Years: return whole(value) == 1 ? "sold once in 10 years" : "sold \(whole(value)) times in 10 years"
        case .homeAge: return "built \(whole(value)) years ago"
        case .livingSqft: return "\(whole(value)) sq ft"
        case .lotSqft: return "lot of \(whole(value)) sq ft"
        case .bedrooms: return "\(whole(value)) bedrooms"
        case .bathrooms: return "\(value == value.rounded() ? String(whole(value)) : String(value)) bathrooms"
        case .propertyType:
            let index = Int(value)
            return index < RawFeature.propertyTypes.count ? RawFeature.propertyTypes[index].lowercased() : "other property type"
        case .zipListingRate36Months: return String(format: "busy zip: listings %.1fx the county rate", value)
        }
    }

    /// `phrase(feature, value)`, the phrases made by `String(format:)` kept by value: made once
    /// per distinct value (a chunk of homes has a few hundred), they were 4 % of a 1M-home tree
    /// model's score run. One per thread.
    struct Memo {
        private var formatted: [Key: String] = [:]
        private struct Key: Hashable { var feature: RawFeature; var bits: UInt64 }

        mutating func phrase(_ feature: RawFeature, _ value: Double) -> String {
            guard feature == .rateLockIn || feature == .zipListingRate36Months, !value.isNaN else { return Reasons.phrase(feature, value) }
            let key = Key(feature: feature, bits: value.bitPattern)
            if let text = formatted[key] { return text }
            let text = Reasons.phrase(feature, value)
            if formatted.count < 100_000 { formatted[key] = text }
            return text
        }
    }

    /// Up to `count` distinct phrases for the features with the largest positive contributions
    /// (several loan features share "no loan on record": it is said once); equal contributions
    /// in feature order. Picks the next largest each time instead of sorting every feature
    /// (a home needs three): no arrays but the result, once per home of a score run.
    static func top(_ contributions: UnsafeBufferPointer<Double>, count: Int = 3, phrase: (Int) -> String) -> [String] {
        var phrases: [String] = []
        phrases.reserveCapacity(count)
        var taken = [Bool](repeating: false, count: 0)
        var takenBits: UInt64 = 0   // features 0..<64; `taken` beyond
        func isTaken(_ index: Int) -> Bool { index < 64 ? takenBits & (1 << UInt64(index)) != 0 : taken[index - 64] }
        while phrases.count < count {
            var best = -1
            for index in contributions.indices where contributions[index] > 1e-12 && !isTaken(index) {
                if best < 0 || contributions[index] > contributions[best] { best = index }
            }
            guard best >= 0 else { break }
            if best < 64 {
                takenBits |= 1 << UInt64(best)
            } else {
                if taken.isEmpty { taken = [Bool](repeating: false, count: contributions.count - 64) }
                taken[best - 64] = true
            }
            let text = phrase(best)
            if !phrases.contains(text) { phrases.append(text) }
        }
        return phrases
    }

    static func top(_ contributions: [Double], count: Int = 3, phrase: (Int) -> String) -> [String] {
        contributions.withUnsafeBufferPointer { top($0, count: count, phrase: phrase) }
    }
}
