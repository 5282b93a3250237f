// A measured campaign's control group (SPEC §11): which eligible households (mail) or people
// (email, ads) an export sets aside instead of contacting, drawn by permuted blocks within tiers.
import Foundation

/// What `export --holdout PERCENT [--holdout-seed N]` asks for.
public struct HoldoutRequest: Equatable, Sendable {
    /// Whole percent of the eligible households or people set aside; nil: the campaign's own
    /// (a campaign that holds out keeps doing so at the same percent).
    public var percent: Int?
    /// nil: a new random seed, reported in the summary and recorded with the export.
    public var seed: Int?

    public init(percent: Int? = nil, seed: Int? = nil) {
        self.percent = percent
        self.seed = seed
    }

    public static let percentRange = 1...90
    public static let seedRange = 0...Int(Int32.max)
}

/// The holdout one export draws.
public struct HoldoutSettings: Codable, Equatable, Sendable {
    public var percent: Int
    public var seed: Int

    public init(percent: Int, seed: Int) {
        self.percent = percent
        self.seed = seed
    }
}

/// Permuted-block randomisation within strata (the tiers, and homes on the market): within each
/// stratum, consecutive eligible units in rank order form blocks of `blockSize`, of which exactly
/// `heldPerBlock` are held out, at positions drawn at random. So every tier is held out at the
/// percent (to within one block, which also ends the list part-filled), and held-out units sit
/// among contacted ones of nearly the same score. Each stratum has its own generator, seeded
/// from the seed and the stratum's name: a tier's draw does not depend on the other tiers.
struct HoldoutDraw: Sendable {
    let settings: HoldoutSettings
    let blockSize: Int
    let heldPerBlock: Int
    private var strata: [String: Stratum] = [:]

    private struct Stratum: Sendable {
        var generator: SplitMix64
        var slots: [Bool] = []
        var next = 0
    }

    init(_ settings: HoldoutSettings) {
        self.settings = settings
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let divisor = gcd(settings.percent, 100)
        blockSize = 100 / divisor
        heldPerBlock = settings.percent / divisor
    }

    /// Whether the next eligible unit of `stratum` is held out.
    mutating func holdsOut(stratum: String) -> Bool {
        var state = strata[stratum] ?? Stratum(generator: SplitMix64(seed: UInt64(settings.seed) ^ Self.fnv1a(stratum)))
        if state.next == state.slots.count {
            state.slots = (0..<blockSize).map { $0 < heldPerBlock }
            // Fisher–Yates by hand: the standard library's shuffle may change between releases,
            // and a seed must give the same draw on every version.
            for i in stride(from: blockSize - 1, to: 0, by: -1) {
                let j = Int(UInt64(i + 1).multipliedFullWidth(by: state.generator.next()).high)
                state.slots.swapAt(i, j)
            }
            state.next = 0
        }
        let held = state.slots[state.next]
        state.next += 1
        strata[stratum] = state
        return held
    }

    /// FNV-1a of the stratum's name: a stable hash (Swift's `Hasher` is seeded per process).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}

/// What a campaign's earlier exports decided, read before an export of it: the prospects it held
/// out (never exported by it), and each home it reached or held out (a later prospect of the
/// same home follows the home, so that no home is both contacted and held out).
struct CampaignHistory: Sendable {
    var heldOutProspects: Set<String> = []
    /// Property id → held out.
    var homes: [String: Bool] = [:]
    /// The campaign's holdout percent, when its exports hold out.
    var holdoutPercent: Int?
    /// Whether the campaign has exports without a holdout.
    var hasExportsWithoutHoldout = false

    /// Adds one row of the campaign's history: a home is held out only while every one of its
    /// prospects the campaign met was held out (one contacted prospect makes it contacted).
    mutating func record(prospect: String, home: String?, heldOut: Bool) {
        if heldOut { heldOutProspects.insert(prospect) }
        if let home { homes[home] = heldOut && (homes[home] ?? true) }
    }

    /// Adds one of the campaign's exports' holdout percent (nil: an export without a holdout).
    mutating func record(holdoutPercent percent: Int?) {
        if let percent { holdoutPercent = percent } else { hasExportsWithoutHoldout = true }
    }

    /// The holdout this export draws, from the request and the campaign's earlier exports.
    func holdout(_ request: HoldoutRequest?, campaign: String) throws -> HoldoutSettings? {
        let percent: Int
        switch (request?.percent, holdoutPercent) {
        case (nil, nil):
            if request?.seed != nil { throw ListwiseError.usage("--holdout-seed needs --holdout PERCENT: campaign \(campaign) does not hold out") }
            return nil
        case (let asked?, let kept?) where asked != kept:
            throw ListwiseError.usage("campaign \(campaign) holds out \(kept) %: use --holdout \(kept), or a new campaign")
        case (let asked?, nil):
            if hasExportsWithoutHoldout {
                throw ListwiseError.usage("campaign \(campaign) has exports without a holdout, so it cannot be measured: "
                                          + "start a new campaign for a measured one")
            }
            percent = asked
        case (_, let kept?): percent = kept
        }
        return HoldoutSettings(percent: percent, seed: request?.seed ?? Int.random(in: HoldoutRequest.seedRange))
    }
}
