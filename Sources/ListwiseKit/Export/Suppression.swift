// The global opt-out list (`listwise suppress FILE`): emails, phones and postal addresses that
// no export may contain, whatever the campaign or channel.
import Foundation
import GRDB

public struct SuppressSummary: Codable, Equatable, Sendable {
    public var file: String
    public var emails: Int
    public var phones: Int
    public var addresses: Int
    /// Entries already on the list.
    public var alreadyListed: Int

    /// Counts one entry: added as `kind`, or already listed (nil).
    mutating func count(kind: String?) {
        switch kind {
        case nil: alreadyListed += 1
        case "email": emails += 1
        case "phone": phones += 1
        default: addresses += 1
        }
    }
}

extension AppDatabase {
    /// Adds the entries of `path` to the opt-out list, all or nothing. The file is a CSV with a
    /// header naming any of `email`, `phone`, `address` (with `zip` for the address), or a plain
    /// list with one entry a line, each recognised as an email (has @), a phone (10 or 11
    /// digits) or else an address. An entry that is none of these is a usage error naming its
    /// line and column; the list is then unchanged.
    public func suppress(file path: String, now: Date = Date()) throws -> SuppressSummary {
        let entries = try Self.suppressionEntries(file: path)
        var summary = SuppressSummary(file: path, emails: 0, phones: 0, addresses: 0, alreadyListed: 0)
        let added = Self.timestamp(now)
        try writer.write { db in
            for entry in entries {
                try db.execute(sql: "INSERT INTO suppressions (kind, value, source, added_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                               arguments: [entry.kind, entry.value, path, added])
                summary.count(kind: db.changesCount == 0 ? nil : entry.kind)
            }
        }
        return summary
    }

    /// The entries of an opt-out file (one column of values, or email/phone/address/zip
    /// columns), validated whole: a bad entry refuses the file.
    static func suppressionEntries(file path: String) throws -> [(kind: String, value: String)] {
        let reader: CSVReader
        do { reader = try CSVReader(path: path) } catch {
            throw ListwiseError.usage("cannot read \(path): \(error)")
        }
        var entries: [(kind: String, value: String)] = []
        var columns: [String: Int] = [:]
        var first = true
        do {
            while try reader.nextRecord() {
                let fields = (0..<reader.fields.count).map { reader.string($0).trimmingCharacters(in: .whitespaces) }
                if first {
                    first = false
                    for (index, name) in fields.enumerated() where ["email", "phone", "address", "zip"].contains(name.lowercased()) {
                        columns[name.lowercased()] = index
                    }
                    if !columns.isEmpty {
                        guard columns["email"] != nil || columns["phone"] != nil || columns["address"] != nil else {
                            throw ListwiseError.usage("\(path): line 1: a zip column needs an address column")
                        }
                        continue
                    }
                }
                func field(_ name: String) -> (String, Int)? {
                    guard let index = columns[name], index < fields.count, !fields[index].isEmpty else { return nil }
                    return (fields[index], index + 1)
                }
                if columns.isEmpty {
                    guard let value = fields.first, !value.isEmpty else { continue }
                    entries.append(try Self.suppressionEntry(value, kind: nil, zip: nil, at: "\(path): line \(reader.recordLine), column 1"))
                    continue
                }
                for kind in ["email", "phone", "address"] {
                    guard let (value, column) = field(kind) else { continue }
                    entries.append(try Self.suppressionEntry(value, kind: kind, zip: kind == "address" ? field("zip")?.0 : nil,
                                                             at: "\(path): line \(reader.recordLine), column \(column)"))
                }
            }
        } catch let error as CSVReader.ReadError {
            throw ListwiseError.usage("\(path): \(error)")
        }
        return entries
    }

    /// One normalised entry; `kind` nil: recognised from the value.
    static func suppressionEntry(_ value: String, kind: String?, zip: String?, at location: String) throws -> (kind: String, value: String) {
        let kind = kind ?? (value.contains("@") ? "email" : ContactNormalization.phoneDigits(value) != nil
                            && value.allSatisfy({ $0.isNumber || "+-(). ".contains($0) }) ? "phone" : "address")
        switch kind {
        case "email":
            guard let email = ContactNormalization.validEmail(value) else { throw ListwiseError.usage("\(location): not a valid email: \(value)") }
            return ("email", email)
        case "phone":
            guard let phone = ContactNormalization.phoneDigits(value) else {
                throw ListwiseError.usage("\(location): not a US phone number (10 digits, or 11 starting with 1): \(value)")
            }
            return ("phone", phone)
        default:
            // A plain-list address may end in its zip: "12 Oak St, Springfield, IL 62701".
            var street = value, zip5 = zip.map { String($0.prefix(5)) } ?? ""
            if zip == nil, let match = value.range(of: #"\b\d{5}(-\d{4})?\s*$"#, options: .regularExpression) {
                zip5 = String(value[match].prefix(5))
                street = String(value[..<match.lowerBound])
                // Drop ", City, ST" after the street line: the street line is the first comma-separated part.
                if let comma = street.firstIndex(of: ",") { street = String(street[..<comma]) }
            }
            let address = AddressStandardizer.standardize(street)
            guard address.line1.contains(where: \.isNumber), zip5.isEmpty || (zip5.count == 5 && zip5.allSatisfy(\.isNumber)) else {
                throw ListwiseError.usage("\(location): not an email, a phone number or a street address: \(value)")
            }
            return ("address", SuppressionList.addressKey(address, zip: zip5))
        }
    }
}
