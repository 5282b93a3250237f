// The Data API's pieces that need no server: cursors, the search words and the one-edit rule.
import XCTest
@testable import ListwiseKit

final class DataAPITests: XCTestCase {
    func testCursorTokensRoundTripAndRejectWhatTheAPIDidNotMake() {
        for cursor in [ScoreCursor(runID: 12, rank: 340, propertyID: "06001:0012/ä"), ScoreCursor(runID: 1, rank: nil, propertyID: "P9")] {
            XCTAssertEqual(ScoreCursor(token: cursor.token), cursor)
            XCTAssertFalse(cursor.token.contains { "+/=".contains($0) }, "URL-safe")
        }
        for token in ["", "!!", "MTox", Data("0:1:P".utf8).base64EncodedString(), Data("5:-1:P".utf8).base64EncodedString(),
                      Data("5:1:".utf8).base64EncodedString(), String(repeating: "A", count: 500)] {
            XCTAssertNil(ScoreCursor(token: token), token)
        }
    }

    func testSearchWordsAndTermsFoldCaseDiacriticsAndSuffixes() {
        XCTAssertEqual(SearchText.words("123 MAIN St., Apt #4 — Núñez"), ["123", "main", "st", "apt", "4", "nunez"])
        let terms = SearchText.terms("123 main st n")
        XCTAssertEqual(terms.map(\.text), ["123", "main", "st", "n"])
        XCTAssertTrue(terms[2].synonyms.contains("street"))
        XCTAssertTrue(terms[3].synonyms.contains("north"))
        XCTAssertFalse(terms[3].prefix, "a one-letter word is matched whole")
        XCTAssertEqual(SearchText.terms(String(repeating: "a ", count: 20)).count, SearchText.maximumTerms)
    }

    func testOneEditIsOneInsertionDeletionSubstitutionOrTransposition() {
        for (a, b) in [("smith", "smth"), ("smith", "smiths"), ("smith", "smyth"), ("smith", "smiht"), ("smith", "smith")] {
            XCTAssertTrue(SearchText.withinOneEdit(a, b), "\(a) \(b)")
            XCTAssertTrue(SearchText.withinOneEdit(b, a), "\(b) \(a)")
        }
        for (a, b) in [("smith", "smt"), ("smith", "msiht"), ("smith", "jones"), ("smith", "smithers")] {
            XCTAssertFalse(SearchText.withinOneEdit(a, b), "\(a) \(b)")
        }
        // Symmetric deletion: words one edit apart share a lookup key.
        XCTAssertFalse(Set(SearchText.lookups("smth")).isDisjoint(with: Set(SearchText.lookups("smith"))))
        XCTAssertFalse(SearchText.takesTypos("ab"))
        XCTAssertFalse(SearchText.takesTypos("94610"))
    }
}
