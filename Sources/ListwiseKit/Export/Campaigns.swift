// The campaign history: `listwise campaigns`.
import Foundation

public struct CampaignSummary: Codable, Equatable, Sendable {
    public var name: String
    public var createdAt: String
    public var exports: Int
    public var channels: [String]
    public var rows: Int
    /// Distinct prospects reached by the campaign's exports.
    public var prospects: Int
    public var lastExportAt: String?
    /// Distinct prospects held out as the campaign's control group, and the percent it holds out.
    public var heldOut = 0
    public var holdoutPercent: Int?

    public enum CodingKeys: String, CodingKey {
        case name, createdAt = "created_at", exports, channels, rows, prospects, lastExportAt = "last_export_at"
        case heldOut = "held_out", holdoutPercent = "holdout_percent"
    }
}
