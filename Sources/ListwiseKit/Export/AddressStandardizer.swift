// Mailing addresses standardised the way USPS Publication 28 writes them: upper case, no
// punctuation, street suffixes (Appendix C1), directionals (§233) and secondary unit
// designators (Appendix C2) abbreviated, the unit on its own line.

/// A standardised delivery address: `line1` is the street line ("123 N MAIN ST"), `line2` the
/// secondary unit ("APT 4B"), empty when there is none.
public struct StandardAddress: Equatable, Sendable, Hashable {
    public var line1: String
    public var line2: String
}

public enum AddressStandardizer {
    /// The common street suffixes of Publication 28 Appendix C1: every spelling maps to the
    /// Postal Service standard abbreviation.
    static let suffixes: [String: String] = {
        let groups: [(String, [String])] = [
            ("ALY", ["ALLEY", "ALLEE", "ALLY", "ALY"]), ("ANX", ["ANNEX", "ANEX", "ANNX", "ANX"]),
            ("ARC", ["ARCADE", "ARC"]), ("AVE", ["AVENUE", "AV", "AVE", "AVEN", "AVENU", "AVN", "AVNUE"]),
            ("BCH", ["BEACH", "BCH"]), ("BLF", ["BLUFF", "BLUF", "BLF"]), ("BLVD", ["BOULEVARD", "BOUL", "BOULV", "BLVD"]),
            ("BND", ["BEND", "BND"]), ("BR", ["BRANCH", "BRNCH", "BR"]), ("BRG", ["BRIDGE", "BRDGE", "BRG"]),
            ("BRK", ["BROOK", "BRK"]), ("BYP", ["BYPASS", "BYPA", "BYPAS", "BYPS", "BYP"]), ("CIR", ["CIRCLE", "CIRC", "CIRCL", "CRCL", "CRCLE", "CIR"]),
            ("CLF", ["CLIFF", "CLF"]), ("CLFS", ["CLIFFS", "CLFS"]), ("CMN", ["COMMON", "CMN"]), ("COR", ["CORNER", "COR"]),
            ("CRES", ["CRESCENT", "CRSENT", "CRSNT", "CRES"]), ("CRK", ["CREEK", "CRK"]), ("CRSE", ["COURSE", "CRSE"]),
            ("CT", ["COURT", "CT"]), ("CTR", ["CENTER", "CEN", "CENT", "CENTR", "CENTRE", "CNTER", "CNTR", "CTR"]),
            ("CTS", ["COURTS", "CTS"]), ("CV", ["COVE", "CV"]), ("CYN", ["CANYON", "CANYN", "CNYN", "CYN"]),
            ("DL", ["DALE", "DL"]), ("DM", ["DAM", "DM"]), ("DR", ["DRIVE", "DRIV", "DRV", "DR"]), ("DV", ["DIVIDE", "DIV", "DVD", "DV"]),
            ("EST", ["ESTATE", "EST"]), ("ESTS", ["ESTATES", "ESTS"]), ("EXPY", ["EXPRESSWAY", "EXP", "EXPR", "EXPRESS", "EXPW", "EXPY"]),
            ("EXT", ["EXTENSION", "EXTN", "EXTNSN", "EXT"]), ("FLD", ["FIELD", "FLD"]), ("FLDS", ["FIELDS", "FLDS"]),
            ("FLS", ["FALLS", "FLS"]), ("FLT", ["FLAT", "FLT"]), ("FRD", ["FORD", "FRD"]), ("FRST", ["FOREST", "FORESTS", "FRST"]),
            ("FRY", ["FERRY", "FRRY", "FRY"]), ("FT", ["FORT", "FRT", "FT"]), ("FWY", ["FREEWAY", "FREEWY", "FRWAY", "FRWY", "FWY"]),
            ("GDN", ["GARDEN", "GARDN", "GRDEN", "GRDN", "GDN"]), ("GDNS", ["GARDENS", "GDNS", "GRDNS"]), ("GLN", ["GLEN", "GLN"]),
            ("GRN", ["GREEN", "GRN"]), ("GRV", ["GROVE", "GROV", "GRV"]), ("HBR", ["HARBOR", "HARB", "HARBR", "HRBOR", "HBR"]),
            ("HL", ["HILL", "HL"]), ("HLS", ["HILLS", "HLS"]), ("HOLW", ["HOLLOW", "HLLW", "HOLLOWS", "HOLWS", "HOLW"]),
            ("HTS", ["HEIGHTS", "HT", "HTS"]), ("HVN", ["HAVEN", "HVN"]), ("HWY", ["HIGHWAY", "HIGHWY", "HIWAY", "HIWY", "HWAY", "HWY"]),
            ("IS", ["ISLAND", "ISLND", "IS"]), ("JCT", ["JUNCTION", "JCTION", "JCTN", "JUNCTN", "JUNCTON", "JCT"]),
            ("KY", ["KEY", "KY"]), ("KNL", ["KNOLL", "KNOL", "KNL"]), ("LK", ["LAKE", "LK"]), ("LKS", ["LAKES", "LKS"]),
            ("LN", ["LANE", "LN"]), ("LNDG", ["LANDING", "LNDNG", "LNDG"]), ("LOOP", ["LOOP", "LOOPS"]), ("MALL", ["MALL"]),
            ("MDW", ["MEADOW", "MDW"]), ("MDWS", ["MEADOWS", "MEDOWS", "MDWS"]), ("ML", ["MILL", "ML"]), ("MNR", ["MANOR", "MNR"]),
            ("MT", ["MOUNT", "MNT", "MT"]), ("MTN", ["MOUNTAIN", "MNTAIN", "MNTN", "MOUNTIN", "MTIN", "MTN"]),
            ("OVAL", ["OVAL", "OVL"]), ("PARK", ["PARK", "PRK"]), ("PASS", ["PASS"]), ("PATH", ["PATH", "PATHS"]),
            ("PIKE", ["PIKE", "PIKES"]), ("PKWY", ["PARKWAY", "PARKWY", "PKWAY", "PKY", "PKWY"]), ("PL", ["PLACE", "PL"]),
            ("PLN", ["PLAIN", "PLN"]), ("PLZ", ["PLAZA", "PLZA", "PLZ"]), ("PNE", ["PINE", "PNE"]), ("PNES", ["PINES", "PNES"]),
            ("PR", ["PRAIRIE", "PRR", "PR"]), ("PT", ["POINT", "PT"]), ("PTS", ["POINTS", "PTS"]), ("RD", ["ROAD", "RD"]),
            ("RDG", ["RIDGE", "RDGE", "RDG"]), ("RDS", ["ROADS", "RDS"]), ("RIV", ["RIVER", "RVR", "RIVR", "RIV"]),
            ("RNCH", ["RANCH", "RANCHES", "RNCHS", "RNCH"]), ("ROW", ["ROW"]), ("RTE", ["ROUTE", "RTE"]), ("RUN", ["RUN"]),
            ("SHR", ["SHORE", "SHOAR", "SHR"]), ("SHRS", ["SHORES", "SHOARS", "SHRS"]), ("SPG", ["SPRING", "SPNG", "SPRNG", "SPG"]),
            ("SQ", ["SQUARE", "SQR", "SQRE", "SQU", "SQ"]), ("ST", ["STREET", "STRT", "STR", "ST"]), ("STA", ["STATION", "STATN", "STN", "STA"]),
            ("STRM", ["STREAM", "STREME", "STRM"]), ("TER", ["TERRACE", "TERR", "TER"]), ("TPKE", ["TURNPIKE", "TRNPK", "TURNPK", "TPKE"]),
            ("TRCE", ["TRACE", "TRACES", "TRCE"]), ("TRL", ["TRAIL", "TRAILS", "TRLS", "TRL"]), ("TUNL", ["TUNNEL", "TUNEL", "TUNLS", "TUNNELS", "TUNNL", "TUNL"]),
            ("VIS", ["VISTA", "VIST", "VST", "VSTA", "VIS"]), ("VL", ["VILLE", "VL"]), ("VLG", ["VILLAGE", "VILL", "VILLAG", "VILLG", "VILLIAGE", "VLG"]),
            ("VLY", ["VALLEY", "VALLY", "VLLY", "VLY"]), ("VW", ["VIEW", "VW"]), ("WALK", ["WALK", "WALKS"]), ("WAY", ["WAY", "WY"]),
            ("WL", ["WELL", "WL"]), ("WLS", ["WELLS", "WLS"]), ("XING", ["CROSSING", "CRSSNG", "XING"]),
        ]
        var map: [String: String] = [:]
        for (standard, spellings) in groups { for spelling in spellings { map[spelling] = standard } }
        return map
    }()

    /// Directionals (Publication 28 §233), in one or two words.
    static let directionals: [String: String] = [
        "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W", "N": "N", "S": "S", "E": "E", "W": "W",
        "NORTHEAST": "NE", "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW", "NE": "NE", "NW": "NW", "SE": "SE", "SW": "SW",
    ]

    /// Secondary unit designators (Appendix C2), and whether the designator takes a number.
    static let units: [String: (standard: String, ranged: Bool)] = [
        "APARTMENT": ("APT", true), "APT": ("APT", true), "BASEMENT": ("BSMT", false), "BSMT": ("BSMT", false),
        "BUILDING": ("BLDG", true), "BLDG": ("BLDG", true), "DEPARTMENT": ("DEPT", true), "DEPT": ("DEPT", true),
        "FLOOR": ("FL", true), "FL": ("FL", true), "FRONT": ("FRNT", false), "FRNT": ("FRNT", false),
        "HANGAR": ("HNGR", true), "HNGR": ("HNGR", true), "KEY": ("KEY", true), "LOBBY": ("LBBY", false), "LBBY": ("LBBY", false),
        "LOT": ("LOT", true), "LOWER": ("LOWR", false), "LOWR": ("LOWR", false), "OFFICE": ("OFC", false), "OFC": ("OFC", false),
        "PENTHOUSE": ("PH", false), "PH": ("PH", false), "PIER": ("PIER", true), "REAR": ("REAR", false), "ROOM": ("RM", true),
        "RM": ("RM", true), "SIDE": ("SIDE", false), "SLIP": ("SLIP", true), "SPACE": ("SPC", true), "SPC": ("SPC", true),
        "STOP": ("STOP", true), "SUITE": ("STE", true), "STE": ("STE", true), "TRAILER": ("TRLR", true), "TRLR": ("TRLR", true),
        "UNIT": ("UNIT", true), "UPPER": ("UPPR", false), "UPPR": ("UPPR", false), "#": ("#", true),
    ]

    /// Standardises a street line (which may carry its unit: "123 North Main Street, Apt. 4B").
    /// Suffixes and directionals are abbreviated only where they act as such: the last word of
    /// the street name is the suffix ("100 Park Avenue" → "100 PARK AVE"), a directional before
    /// or after a name of at least one more word ("North Street" keeps its NORTH).
    public static func standardize(_ raw: String) -> StandardAddress {
        var tokens = tokenize(raw)
        // The unit: from the first designator after the house number and one more word that
        // acts as one: a ranged designator ("APT") followed by a number or a letter, or a
        // designator without range ("REAR") last ("12 Old Key Road" keeps its KEY).
        var line2: [String] = []
        let isUnit = { (index: Int) -> Bool in
            guard let unit = units[tokens[index]] else { return false }
            guard unit.ranged else { return index == tokens.count - 1 }
            return index + 1 < tokens.count && (tokens[index + 1].contains(where: \.isNumber) || tokens[index + 1].count == 1)
        }
        if let start = tokens.indices.dropFirst(2).first(where: isUnit) {
            let rest = Array(tokens[start...])
            tokens.removeSubrange(start...)
            var designator = units[rest[0]]!.standard
            var remainder = Array(rest.dropFirst())
            if designator == "#", let next = remainder.first, let named = units[next], named.standard != "#" {
                designator = named.standard   // "# APT 4" → "APT 4"
                remainder.removeFirst()
            }
            line2 = [designator] + remainder
        }
        if tokens.count >= 2, tokens[0] == "PO" || tokens[0] == "P", let box = tokens.firstIndex(of: "BOX") {
            return StandardAddress(line1: (["PO", "BOX"] + tokens[(box + 1)...]).joined(separator: " "), line2: line2.joined(separator: " "))
        }
        // tokens: [house number] [pre-directional] name... [suffix] [post-directional]
        let hasNumber = tokens.first.map { $0.first?.isNumber ?? false } ?? false
        let nameStart = hasNumber ? 1 : 0
        var end = tokens.count
        if end - nameStart >= 3, let post = directionals[tokens[end - 1]] { tokens[end - 1] = post; end -= 1 }
        if end - nameStart >= 2, let suffix = suffixes[tokens[end - 1]] { tokens[end - 1] = suffix; end -= 1 }
        if end - nameStart >= 2, let pre = directionals[tokens[nameStart]] { tokens[nameStart] = pre }
        return StandardAddress(line1: tokens.joined(separator: " "), line2: line2.joined(separator: " "))
    }

    /// Upper-case words without punctuation; "#4" becomes "#", "4"; hyphens and slashes stay
    /// (house numbers "12-14", fractions "1/2").
    static func tokenize(_ raw: String) -> [String] {
        guard raw.utf8.allSatisfy({ $0 < 0x80 }) else { return tokenizeUnicode(raw) }
        // ASCII, byte by byte (the Character-level path was most of a 100k-home export's time).
        var words: [String] = []
        var word: [UInt8] = []
        word.reserveCapacity(32)
        func flush() {
            var start = 0
            while start < word.count - 1, word[start] == UInt8(ascii: "#") { words.append("#"); start += 1 }
            if start < word.count { words.append(String(decoding: word[start...], as: UTF8.self)) }
            word.removeAll(keepingCapacity: true)
        }
        for byte in raw.utf8 {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: ","), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                if !word.isEmpty { flush() }
            case UInt8(ascii: "a")...UInt8(ascii: "z"): word.append(byte - 32)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "#"), UInt8(ascii: "-"), UInt8(ascii: "/"):
                word.append(byte)
            default: break   // punctuation
            }
        }
        if !word.isEmpty { flush() }
        return words
    }

    static func tokenizeUnicode(_ raw: String) -> [String] {
        var words: [String] = []
        for word in raw.uppercased().split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" || $0 == "\n" || $0 == "\r" }) {
            var cleaned = String(word.filter { $0.isLetter || $0.isNumber || $0 == "#" || $0 == "-" || $0 == "/" })
            while cleaned.hasPrefix("#"), cleaned.count > 1 {
                words.append("#")
                cleaned.removeFirst()
            }
            if !cleaned.isEmpty { words.append(cleaned) }
        }
        return words
    }

    /// A city or person's name for a mailing label: upper case, single spaces, no punctuation
    /// but hyphens and apostrophes.
    public static func standardizeCity(_ raw: String) -> String {
        if raw.utf8.allSatisfy({ $0 < 0x80 }) {
            // ASCII: upper-cased byte by byte, single spaces, letters, digits, - and ' kept.
            var bytes: [UInt8] = []
            bytes.reserveCapacity(raw.utf8.count)
            for byte in raw.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"): bytes.append(byte - 32)
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "'"):
                    bytes.append(byte)
                case UInt8(ascii: " "), UInt8(ascii: "\t"):
                    if let last = bytes.last, last != UInt8(ascii: " ") { bytes.append(UInt8(ascii: " ")) }
                default: break
                }
            }
            if bytes.last == UInt8(ascii: " ") { bytes.removeLast() }
            return String(decoding: bytes, as: UTF8.self)
        }
        return raw.uppercased().split(separator: " ").map { $0.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "'" } }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }
}
