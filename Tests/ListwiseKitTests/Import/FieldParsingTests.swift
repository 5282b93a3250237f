// Field validators: numbers, dates, booleans, ZIP codes, UTF-8.
import XCTest
@testable import ListwiseKit

final class FieldParsingTests: XCTestCase {
    private func with<T>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        Array(text.utf8).withUnsafeBufferPointer(body)
    }

    func testDecimalsParseExactlyOrNotAtAll() {
        let cases: [(String, Double?)] = [("6.125", 6.125), ("-122.25", -122.25), (".5", 0.5), ("7", 7), ("+3.0", 3),
                                          ("0.1", 0.1), ("37.77493", 37.77493), ("1234567890.123456789", 1234567890.123456789),
                                          ("", nil), ("-", nil), (".", nil), ("1.2.3", nil), ("1e5", nil), ("nan", nil),
                                          ("12a", nil), ("1,5", nil)]
        for (text, expected) in cases {
            XCTAssertEqual(with(text, parseDecimal), expected, text)
        }
        // Same bits as the standard library's correctly rounded parser.
        var random = SampleRandom(seed: 3)
        for _ in 0..<2000 {
            let text = String(format: "%.\(random.int(0...8))f", random.uniform(-1000, 1000))
            XCTAssertEqual(with(text, parseDecimal), Double(text), text)
        }
    }

    func testIntegers() {
        XCTAssertEqual(with("455000", parseInteger), 455_000)
        XCTAssertEqual(with("-12", parseInteger), -12)
        XCTAssertNil(with("12.0", parseInteger))
        XCTAssertNil(with("1,000", parseInteger))
        XCTAssertNil(with("9999999999999999999", parseInteger))
        XCTAssertNil(with("", parseInteger))
    }

    func testDatesAreRealCalendarDays() {
        for valid in ["2024-02-29", "2000-02-29", "1999-12-31", "2023-01-01"] {
            XCTAssertTrue(with(valid, isValidDate), valid)
        }
        for invalid in ["2023-02-29", "1900-02-29", "2023-04-31", "2023-13-01", "2023-00-10", "2023-1-01",
                        "2023/01/01", "20230101", "2023-01-01T00:00"] {
            XCTAssertFalse(with(invalid, isValidDate), invalid)
        }
    }

    func testBooleansAndZips() {
        for yes in ["Y", "y", "yes", "YES", "true", "True", "1"] { XCTAssertEqual(with(yes, parseBool), true, yes) }
        for no in ["N", "n", "no", "No", "false", "FALSE", "0"] { XCTAssertEqual(with(no, parseBool), false, no) }
        for bad in ["t", "f", "2", "yess", "x", "on"] { XCTAssertNil(with(bad, parseBool), bad) }
        XCTAssertTrue(with("94110", parseZip)! == (0, nil))
        XCTAssertTrue(with("94110-1234", parseZip)! == (0, 6))
        XCTAssertTrue(with("941101234", parseZip)! == (0, 5))
        for bad in ["9411", "94110-12", "9411O", "94110 1234", "941101"] { XCTAssertNil(with(bad, parseZip), bad) }
    }

    func testUTF8Validation() {
        XCTAssertTrue(with("Café 東京", isValidUTF8))
        XCTAssertFalse([UInt8]([0x43, 0xE9, 0x64]).withUnsafeBufferPointer(isValidUTF8))
    }
}
