// Search by address or name (SPEC §8, `GET /v1/search`): the query's words, each matched as a
// prefix ("123 main st" finds "123 MAIN STREET APT 4"), with the street suffix and directional
// spellings of Publication 28 as synonyms ("street" finds "ST"), and, when the exact words find
// too few homes, words one edit away ("smth" finds "Smith") from the index's own vocabulary by
// symmetric deletion. Ranked: homes that match every word as typed first, then by the store's
// text rank. The index is derived data a store rebuilds after imports change homes or people.
import Foundation

/// One home found.
public struct SearchHit: Codable, Equatable, Sendable {
    public var propertyID: String
    public var address: String
    public var city: String
    public var zip: String
    public var latitude: Double?
    public var longitude: Double?
    /// Names of the home's people (PII): only for keys with the export scope, else nil.
    public var names: [String]?
    /// "exact": every word matched as typed (prefix or synonym); "typo": some word one edit away.
    public var match: String

    enum CodingKeys: String, CodingKey {
        case propertyID = "property_id", address, city, zip, latitude, longitude, names, match
    }
}

/// A query word and what it may match: itself as a prefix (exact when shorter than two
/// letters), the synonyms exactly, and the vocabulary's words one edit away.
public struct SearchTerm: Equatable, Sendable {
    public var text: String
    public var prefix: Bool
    public var synonyms: [String]
    public var typos: [String] = []
}

/// The state of a store's search index: the newest properties or prospects import it has seen
/// (nil: never built) against the newest there is.
public struct SearchIndexState: Equatable, Sendable {
    public var importsSeen: Int64?
    public var newestImport: Int64
    public var isStale: Bool { importsSeen.map { $0 < newestImport } ?? true }
}

public enum SearchText {
    /// At most this many words of a query are used.
    public static let maximumTerms = 8
    /// The matches a store ranks: the first this many (in its own order). Ranking every match cost
    /// 50 ms for "market st" at 1M homes (5,575 matches); a query broad enough to match more has
    /// many equally good homes, and a specific one (a house number, a name) matches fewer.
    public static let rankedMatches = 1000
    /// The best ranked matches a store returns (then filtered by territory and cut to the limit).
    public static let candidates = 200

    /// The query's words as the index tokenises text: lower case letters and digits, diacritics
    /// dropped, everything else a separator.
    public static func words(_ text: String) -> [String] {
        let folded = text.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).lowercased()
        return folded.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
    }

    /// The query's terms with their synonyms.
    public static func terms(_ query: String) -> [SearchTerm] {
        words(query).prefix(maximumTerms).map { word in
            let upper = word.uppercased()
            var synonyms: Set<String> = []
            if let standard = AddressStandardizer.suffixes[upper] {
                synonyms.formUnion(suffixSpellings[standard, default: []])
            }
            if let standard = AddressStandardizer.directionals[upper] {
                synonyms.formUnion(AddressStandardizer.directionals.filter { $0.value == standard }.keys)
            }
            synonyms.remove(upper)
            return SearchTerm(text: word, prefix: word.count >= 2, synonyms: synonyms.map { $0.lowercased() }.sorted())
        }
    }

    private static let suffixSpellings: [String: [String]] = Dictionary(grouping: AddressStandardizer.suffixes, by: \.value)
        .mapValues { $0.map(\.key) }

    /// Whether a vocabulary word gets typo variants: letters only, 3 to 24 of them.
    public static func takesTypos(_ word: String) -> Bool {
        (3...24).contains(word.count) && word.allSatisfy(\.isLetter)
    }

    /// The word without one of its letters, each way (symmetric deletion: two words within one
    /// edit share a variant, or one is a variant of the other).
    public static func deletions(_ word: String) -> Set<String> {
        let letters = Array(word)
        var result: Set<String> = []
        for i in letters.indices {
            var copy = letters
            copy.remove(at: i)
            result.insert(String(copy))
        }
        return result
    }

    /// What a query word looks up in the variants table.
    public static func lookups(_ word: String) -> [String] {
        [word] + deletions(word).sorted()
    }

    /// Optimal string alignment distance of at most one: one insertion, deletion, substitution
    /// or transposition of neighbours.
    public static func withinOneEdit(_ a: String, _ b: String) -> Bool {
        let x = Array(a), y = Array(b)
        if x == y { return true }
        if abs(x.count - y.count) > 1 { return false }
        var i = 0
        while i < min(x.count, y.count), x[i] == y[i] { i += 1 }
        if x.count == y.count {
            if x[(i + 1)...] == y[(i + 1)...] { return true }   // substitution
            return i + 1 < x.count && x[i] == y[i + 1] && x[i + 1] == y[i] && x[(i + 2)...] == y[(i + 2)...]
        }
        let (long, short) = x.count > y.count ? (x, y) : (y, x)
        return long[(i + 1)...] == short[i...]
    }
}

extension Store {
    /// Homes matching `query`, best first, at most `limit`, those `allowed` only (a key's
    /// territories). Names are searched and returned only when `includeNames`.
    public func search(_ query: String, includeNames: Bool, limit: Int,
                       allowed: @Sendable (SearchHit) -> Bool = { _ in true }) async throws -> [SearchHit] {
        var terms = SearchText.terms(query)
        guard !terms.isEmpty else { return [] }
        var hits = try await searchIndex(terms, includeNames: includeNames, typos: false).filter(allowed)
        if hits.count < limit {
            let typoWords = terms.map(\.text).filter(SearchText.takesTypos)
            let candidates = try await searchVariants(typoWords)
            var anyTypo = false
            for index in terms.indices {
                let word = terms[index].text
                terms[index].typos = (candidates[word] ?? []).filter { $0 != word && SearchText.withinOneEdit($0, word) }.sorted()
                anyTypo = anyTypo || !terms[index].typos.isEmpty
            }
            if anyTypo {
                let seen = Set(hits.map(\.propertyID))
                hits += try await searchIndex(terms, includeNames: includeNames, typos: true)
                    .filter { !seen.contains($0.propertyID) && allowed($0) }
                    .map { var hit = $0; hit.match = "typo"; return hit }
            }
        }
        return Array(hits.prefix(limit)).map { hit in
            var hit = hit
            if !includeNames { hit.names = nil }
            return hit
        }
    }
}
