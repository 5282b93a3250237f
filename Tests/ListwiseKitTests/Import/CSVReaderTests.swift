// The byte-level CSV reader: RFC 4180 round trips across buffer boundaries, line numbers.
import Foundation
import XCTest
@testable import ListwiseKit

final class CSVReaderTests: TemporaryFolderTestCase {
    private func readAll(_ path: String, bufferSize: Int) throws -> [(line: Int, fields: [String])] {
        let reader = try CSVReader(path: path, bufferSize: bufferSize)
        var records: [(Int, [String])] = []
        while try reader.nextRecord() {
            records.append((reader.recordLine, reader.fields.indices.map { reader.string($0) }))
        }
        return records
    }

    func testRandomTablesRoundTripWithTinyBuffers() throws {
        var random = SampleRandom(seed: 7)
        let alphabet = ["a", "b", "Z", " ", ",", "\"", "\n", "\r\n", "é", "東", "1"]
        for round in 0..<20 {
            let columns = random.int(1...5)
            var table: [[String]] = []
            for _ in 0..<random.int(1...30) {
                var row = (0..<columns).map { _ in (0..<random.int(0...6)).map { _ in random.pick(alphabet) }.joined() }
                if row.allSatisfy(\.isEmpty) { row[0] = "x" }  // an all-empty single field is a blank line
                table.append(row)
            }
            let lineEnd = round % 2 == 0 ? "\n" : "\r\n"
            let text = table.map { row in
                row.map { field in
                    field.unicodeScalars.contains(where: { ",\"\n\r".unicodeScalars.contains($0) })
                        ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
                }.joined(separator: ",")
            }.joined(separator: lineEnd) + (round % 3 == 0 ? "" : lineEnd)
            let input = try file("round\(round).csv", text)
            // Expected physical start lines: count newlines in the text before each record.
            var expectedLines: [Int] = []
            var line = 1
            for row in table {
                expectedLines.append(line)
                line += 1 + row.reduce(0) { $0 + $1.unicodeScalars.filter { $0 == "\n" }.count }
            }
            for bufferSize in [1, 3, 16, 1 << 16] {
                let records = try readAll(input, bufferSize: bufferSize)
                XCTAssertEqual(records.map(\.fields), table, "round \(round) buffer \(bufferSize)")
                XCTAssertEqual(records.map(\.line), expectedLines, "round \(round) buffer \(bufferSize)")
            }
        }
    }

    func testBlankLinesAreSkippedButCounted() throws {
        let input = try file("blank.csv", "a,b\n\n1,2\r\n\r\n3,4\n")
        let records = try readAll(input, bufferSize: 4)
        XCTAssertEqual(records.map(\.line), [1, 3, 5])
        XCTAssertEqual(records.map(\.fields), [["a", "b"], ["1", "2"], ["3", "4"]])
    }

    func testStrayQuotesAreReportedAndUnterminatedQuoteThrows() throws {
        let input = try file("quotes.csv", "a,b\nx\"y,2\n\"ok\"junk,3\n")
        let reader = try CSVReader(path: input)
        XCTAssertTrue(try reader.nextRecord())
        XCTAssertTrue(try reader.nextRecord())
        XCTAssertEqual(reader.problem, .badQuoting(column: 0))
        XCTAssertTrue(try reader.nextRecord())
        XCTAssertEqual(reader.problem, .badQuoting(column: 0))
        let open = try file("open.csv", "a,b\n1,\"never closed\n2,3\n")
        let openReader = try CSVReader(path: open, bufferSize: 4)
        XCTAssertTrue(try openReader.nextRecord())
        XCTAssertThrowsError(try openReader.nextRecord()) { error in
            XCTAssertEqual(error as? CSVReader.ReadError, .unterminatedQuote(line: 2))
        }
    }

    func testChecksumIsTheFilesSHA256() throws {
        let input = try file("sum.csv", "a\n1\n")
        let reader = try CSVReader(path: input, bufferSize: 2)
        while try reader.nextRecord() {}
        // printf 'a\n1\n' | sha256sum
        XCTAssertEqual(reader.checksumHex(), "309b0e45a73d3fc5325e2b6ed0a01ef8b9cde6b05a5633c1f893f970d52bfddc")
    }
}
