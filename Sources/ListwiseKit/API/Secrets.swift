// Bytes as lower-case hex, random tokens, and constant-time comparison: shared by API keys,
// webhook secrets and signatures, and the checksums of files and training data.

enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Two hex digits a byte, by table: String(format: "%02x") per byte was most of an API key
    /// check on Linux (the server checks a key on every request).
    static func string<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var hex: [UInt8] = []
        hex.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// `count` bytes from the system's generator, in hex.
    static func random(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return string((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// Whether `a` and `b` are equal, in time that does not depend on where they differ.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (a, b) = (Array(a.utf8), Array(b.utf8))
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
