// The global opt-out list (`listwise suppress FILE`): emails, phones and postal addresses that
// no export may contain, whatever the campaign or channel.
import Foundation

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

/// The global opt-out list, loaded whole (it is small next to the prospects).
struct SuppressionList {
    var emails: Set<String> = []
    var phones: Set<String> = []
    var addresses: Set<String> = []

    static func addressKey(_ address: StandardAddress, zip: String) -> String { "\(address.line1)|\(address.line2)|\(zip)" }

    mutating func add(kind: String, value: String) {
        switch kind {
        case "email": emails.insert(value)
        case "phone": phones.insert(value)
        default: addresses.insert(value)
        }
    }

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

/// An opt-out file's entries, read and validated whole before anything is stored.
enum SuppressionFile {
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
