// Validation of one CSV record against a kind's columns (SPEC §1), shared by the SQLite import
// (values bound to a prepared statement) and the PostgreSQL import (values written as COPY
// text): a generic sink, specialised for each, so the SQLite hot loop keeps its raw binds.

/// Where a valid record's values go. `parameter` is the 1-based index of the database column
/// in `RecordFields.columns`; columns not given a value are NULL.
protocol RecordSink {
    mutating func integer(_ parameter: Int32, _ value: Int64)
    mutating func double(_ parameter: Int32, _ value: Double)
    /// UTF-8 bytes, valid until the reader moves to the next record.
    mutating func text(_ parameter: Int32, _ bytes: UnsafeRawPointer, _ count: Int)
}

/// Checks a record's property reference while it is validated (SQLite); `DeferredPropertyCheck`
/// accepts every id, for an import that checks them all at once afterwards (PostgreSQL).
protocol PropertyCheck {
    func exists(_ id: UnsafeBufferPointer<UInt8>) throws -> Bool
}

struct DeferredPropertyCheck: PropertyCheck {
    func exists(_ id: UnsafeBufferPointer<UInt8>) throws -> Bool { true }
}

final class RecordFields {
    let kind: ImportKind
    let specs: [ColumnSpec]
    let positions: [Int?]
    let header: [String]
    /// The database columns the file supplies, in parameter order; events always all five key columns.
    private(set) var columns: [String] = []
    /// First parameter index (1-based) of each spec, nil when the file lacks the column.
    private var parameterIndex: [Int32?] = []
    /// Canonical spellings of enum values, handed out without copying (freed in `deinit`).
    private var enumValues: [[(name: [UInt8], pointer: UnsafeMutablePointer<UInt8>)]] = []
    let propertyColumn: Int?
    /// The event_date of the record just validated (events), for the newest-event bookkeeping.
    private(set) var eventDate: UnsafeRawBufferPointer?

    init(kind: ImportKind, resolved: ResolvedColumns, header: [String]) {
        self.kind = kind
        specs = kind.columns
        positions = resolved.positions
        self.header = header
        propertyColumn = kind == .properties ? nil : specs.firstIndex { $0.name == "property_id" }
        for (spec, position) in zip(specs, positions) {
            if position != nil || kind == .events {
                parameterIndex.append(Int32(columns.count + 1))
                columns.append(contentsOf: spec.databaseColumns)
            } else {
                parameterIndex.append(nil)
            }
            if case .enumeration(let names) = spec.type {
                enumValues.append(names.map { name in
                    let bytes = Array(name.utf8)
                    let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count)
                    pointer.initialize(from: bytes, count: bytes.count)
                    return (bytes, pointer)
                })
            } else {
                enumValues.append([])
            }
        }
    }

    deinit {
        for values in enumValues { for value in values { value.pointer.deallocate() } }
    }

    private func reject(_ reader: CSVReader, _ specIndex: Int, _ reason: RejectReason) -> RowOutcome {
        let position = positions[specIndex]!
        let value = position < reader.fields.count ? reader.string(position) : ""
        return .rejected(column: header[position], value: value, reason: reason)
    }

    /// Validates the reader's current record into `sink`; returns the rejection, or nil when
    /// every value is good. (Generic, not closures: a closure a row cost 5 % of the events import.)
    func validate<Sink: RecordSink, Check: PropertyCheck>(_ reader: CSVReader, headerCount: Int, into sink: inout Sink,
                                                          checking properties: Check) throws -> RowOutcome? {
        eventDate = nil
        guard reader.fields.count == headerCount else {
            return .rejected(column: "", value: "\(reader.fields.count) fields where the header has \(headerCount)",
                             reason: .malformedRecord)
        }
        if case .badQuoting(let column)? = reader.problem {
            return .rejected(column: header[column], value: reader.string(column), reason: .malformedRecord)
        }
        for (specIndex, spec) in specs.enumerated() {
            guard let parameter = parameterIndex[specIndex] else { continue }
            guard let position = positions[specIndex] else {
                // Events' amount and rate: absent column, stored as the "missing" key value.
                sink.integer(parameter, Int64(EventRecord.missing))
                continue
            }
            let raw = trimmed(reader.bytes(position))
            if raw.isEmpty {
                if spec.required { return reject(reader, specIndex, .missingRequired) }
                switch spec.type {
                case .bool(let defaultValue?):
                    sink.integer(parameter, defaultValue ? 1 : 0)
                case .integer, .decimal:
                    if kind == .events { sink.integer(parameter, Int64(EventRecord.missing)) }
                default:
                    break  // NULL
                }
                continue
            }
            let base = raw.baseAddress!
            if specIndex == propertyColumn, try !properties.exists(raw) {
                return reject(reader, specIndex, .unknownPropertyID)
            }
            switch spec.type {
            case .text:
                guard isValidUTF8(raw) else { return reject(reader, specIndex, .badEncoding) }
                sink.text(parameter, base, raw.count)
            case .zip:
                guard let zip = parseZip(raw) else { return reject(reader, specIndex, .badZip) }
                sink.text(parameter, base + zip.zip5, 5)
                if let plus4 = zip.plus4 { sink.text(parameter + 1, base + plus4, 4) }
            case .integer(let range):
                guard let value = parseInteger(raw), range.contains(value) else {
                    return reject(reader, specIndex, .badNumber)
                }
                sink.integer(parameter, value)
            case .decimal(let range):
                guard let value = parseDecimal(raw), range.contains(value) else {
                    return reject(reader, specIndex, .badNumber)
                }
                sink.double(parameter, value)
            case .bool:
                guard let value = parseBool(raw) else { return reject(reader, specIndex, .badBool) }
                sink.integer(parameter, value ? 1 : 0)
            case .date:
                guard isValidDate(raw) else { return reject(reader, specIndex, .badDate) }
                sink.text(parameter, base, 10)
                if kind == .events { eventDate = UnsafeRawBufferPointer(start: base, count: 10) }
            case .enumeration:
                guard let match = enumValues[specIndex].first(where: { candidate in
                    candidate.name.count == raw.count && zip(candidate.name, raw).allSatisfy { $0 == ($1 & 0xDF) }
                }) else { return reject(reader, specIndex, .badEnum) }
                sink.text(parameter, match.pointer, match.name.count)
            }
        }
        return nil
    }
}
