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

    public enum CodingKeys: String, CodingKey {
        case name, createdAt = "created_at", exports, channels, rows, prospects, lastExportAt = "last_export_at"
    }
}
