// Calendar days as integers (days since 1970-01-01), parsed from ISO dates without Foundation.

public enum DayNumber {
    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    public static func from(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// (year, month, day) of a day number.
    public static func civil(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `YYYY-MM-DD` → day number (the input is trusted: dates in the database are validated).
    @inline(__always)
    static func parse(_ bytes: UnsafePointer<UInt8>) -> Int {
        func digit(_ i: Int) -> Int { Int(bytes[i] &- 0x30) }
        return from(year: digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3),
                    month: digit(5) * 10 + digit(6), day: digit(8) * 10 + digit(9))
    }

    public static func parse(_ text: String) -> Int? {
        var copy = text
        return copy.withUTF8 { buffer in
            guard isValidDate(buffer) else { return nil }
            return parse(buffer.baseAddress!)
        }
    }

    public static func iso(_ days: Int) -> String {
        let (y, m, d) = civil(days)
        func pad(_ v: Int, _ width: Int) -> String { String(repeating: "0", count: max(0, width - String(v).count)) + String(v) }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }
}
