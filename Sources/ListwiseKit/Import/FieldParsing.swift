// Parsing and validating single CSV fields from raw bytes, without allocating.

/// ASCII whitespace trimmed from both ends.
@inline(__always)
func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
    guard let base = bytes.baseAddress else { return bytes }
    var start = 0, end = bytes.count
    while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
    while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
    return UnsafeBufferPointer(start: base + start, count: end - start)
}

@inline(__always)
func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

/// `[+-]digits`, at most 18 digits.
func parseInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
    var i = 0
    var negative = false
    if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
        negative = bytes[i] == UInt8(ascii: "-")
        i += 1
    }
    let digits = bytes.count - i
    guard digits > 0, digits <= 18 else { return nil }
    var value: Int64 = 0
    while i < bytes.count {
        let byte = bytes[i]
        guard isDigit(byte) else { return nil }
        value = value * 10 + Int64(byte &- 0x30)
        i += 1
    }
    return negative ? -value : value
}

private let powersOfTen: [Double] = (0...22).map { exponent in
    var value = 1.0
    for _ in 0..<exponent { value *= 10 }
    return value
}

/// `[+-]digits[.digits]` (or `.5`). Up to 15 significant digits the result is exact
/// (an integer below 2^53 divided by an exact power of ten rounds once); longer inputs
/// go through the standard library's correctly rounded parser.
func parseDecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
    var i = 0
    var negative = false
    if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
        negative = bytes[i] == UInt8(ascii: "-")
        i += 1
    }
    var mantissa: Int64 = 0
    var digits = 0
    var fractionDigits = 0
    var seenPoint = false
    while i < bytes.count {
        let byte = bytes[i]
        if byte == UInt8(ascii: ".") {
            if seenPoint { return nil }
            seenPoint = true
        } else if isDigit(byte) {
            if digits < 18 { mantissa = mantissa * 10 + Int64(byte &- 0x30) }
            digits += 1
            if seenPoint { fractionDigits += 1 }
        } else {
            return nil
        }
        i += 1
    }
    guard digits > 0 else { return nil }
    let value: Double
    if digits <= 15 {
        value = Double(mantissa) / powersOfTen[fractionDigits]
    } else {
        guard let parsed = Double(String(decoding: bytes, as: UTF8.self)) else { return nil }
        return parsed
    }
    return negative ? -value : value
}

/// `YYYY-MM-DD`, a real calendar day.
func isValidDate(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return false }
    for i in [0, 1, 2, 3, 5, 6, 8, 9] where !isDigit(bytes[i]) { return false }
    func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + Int(bytes[$1] - 0x30) } }
    let year = number(0..<4), month = number(5..<7), day = number(8..<10)
    guard year >= 1000, (1...12).contains(month), day >= 1 else { return false }
    return day <= daysInMonth(year: year, month: month)
}

func daysInMonth(year: Int, month: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// Y/N, true/false, 1/0, yes/no in any case (SPEC §1).
func parseBool(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
    guard bytes.count <= 5 else { return nil }
    var lowered: UInt64 = 0
    for byte in bytes { lowered = lowered << 8 | UInt64(byte | 0x20) }
    switch lowered {
    case 0x79, 0x31 | 0x20, 0x74_72_75_65, 0x79_65_73: return true       // y, 1, true, yes
    case 0x6E, 0x30 | 0x20, 0x66_61_6C_73_65, 0x6E_6F: return false      // n, 0, false, no
    default: return nil
    }
}

/// The 5-digit ZIP and the optional +4 of `12345`, `12345-6789` or `123456789`,
/// as offsets into `bytes`.
func parseZip(_ bytes: UnsafeBufferPointer<UInt8>) -> (zip5: Int, plus4: Int?)? {
    func digits(_ range: Range<Int>) -> Bool { range.allSatisfy { isDigit(bytes[$0]) } }
    switch bytes.count {
    case 5 where digits(0..<5): return (0, nil)
    case 9 where digits(0..<9): return (0, 5)
    case 10 where digits(0..<5) && bytes[5] == UInt8(ascii: "-") && digits(6..<10): return (0, 6)
    default: return nil
    }
}

/// True when every byte is ASCII or the bytes are valid UTF-8.
func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    for byte in bytes where byte >= 0x80 {
        return String(validating: bytes, as: UTF8.self) != nil
    }
    return true
}
