// The likely-to-sell model (SPEC §2): transforms, coefficients, metrics, and the JSON model file.
import Crypto
import Foundation

public struct LikelyToSellModel: Codable, Equatable, Sendable {
    public static let formatVersion = 1

    public struct RowCounts: Codable, Equatable, Sendable {
        public var training: Int
        public var trainingPositives: Int
        public var validation: Int
        public var validationPositives: Int
        enum CodingKeys: String, CodingKey {
            case training, validation
            case trainingPositives = "training_positives", validationPositives = "validation_positives"
        }
    }

    public var formatVersion: Int
    public var createdAt: String
    public var horizonDays: Int
    /// The stacked snapshots the model was fitted on.
    public var trainingAsOf: [String]
    /// The later, out-of-time snapshot it was validated on.
    public var validationAsOf: String
    public var l2: Double
    public var converged: Bool
    public var iterations: Int
    public var features: [FeatureTransform]
    public var intercept: Double
    /// One per output column, in the order of `features[*].columns`.
    public var coefficients: [Double]
    public var metrics: ModelMetrics
    public var rows: RowCounts
    /// SHA-256 of the training design matrix and labels.
    public var trainingFingerprint: String
    /// Notes for the analyst (e.g. owner features left out for lack of owners.csv).
    public var notes: [String]
    /// Each raw feature's training distribution, for drift; nil in models made before it was kept.
    public var featureProfiles: [FeatureProfile]?
    /// How `--l2 auto` chose `l2` on the inner split; nil when the penalty was given. Its
    /// figures never involve the out-of-time validation in `metrics`.
    public var tuning: PenaltyTuning?

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", createdAt = "created_at", horizonDays = "horizon_days"
        case trainingAsOf = "training_as_of", validationAsOf = "validation_as_of", l2, converged, iterations
        case features, intercept, coefficients, metrics, rows
        case trainingFingerprint = "training_fingerprint", notes, featureProfiles = "feature_profiles", tuning
    }

    public var columnNames: [String] { features.flatMap(\.columns) }

    /// The raw features this model reads.
    public func rawFeatures() throws -> [RawFeature] {
        try features.map { transform in
            guard let feature = RawFeature.allCases.first(where: { $0.name == transform.feature }) else {
                throw ListwiseError.usage("model uses feature '\(transform.feature)', which this version of listwise cannot compute")
            }
            return feature
        }
    }

    /// P(list or sell within the horizon) for every row of `table`.
    public func probabilities(_ table: FeatureTable) throws -> [Double] {
        let design = try DesignMatrix.build(table, transforms: features, rows: Array(0..<table.count))
        let eta = try BLAS.multiply(design, coefficients)
        return eta.map { LogisticRegression.sigmoid($0 + intercept) }
    }

    // MARK: - File

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = try encoder.encode(self)
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads a model file; an unknown format version or a feature listwise cannot compute is a
    /// usage error (exit 2).
    public static func load(path: String) throws -> LikelyToSellModel {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ListwiseError.usage("\(path): cannot read the model file")
        }
        struct Version: Decodable { var formatVersion: Int?; enum CodingKeys: String, CodingKey { case formatVersion = "format_version" } }
        guard let version = try? JSONDecoder().decode(Version.self, from: data) else {
            throw ListwiseError.usage("\(path): not a listwise model file (not JSON)")
        }
        guard version.formatVersion == formatVersion else {
            throw ListwiseError.usage("\(path): model format version \(version.formatVersion.map(String.init) ?? "missing") is not supported (this listwise reads version \(formatVersion))")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let model: LikelyToSellModel
        do {
            model = try decoder.decode(LikelyToSellModel.self, from: data)
        } catch {
            throw ListwiseError.usage("\(path): malformed model file (\(error.localizedDescription))")
        }
        _ = try model.rawFeatures()
        guard model.coefficients.count == model.columnNames.count else {
            throw ListwiseError.usage("\(path): \(model.coefficients.count) coefficients for \(model.columnNames.count) columns")
        }
        return model
    }
}

/// Assembles the standardised design matrix (row-major) of a feature table.
public enum DesignMatrix {
    /// The raw feature of each transform.
    static func features(_ transforms: [FeatureTransform]) throws -> [RawFeature] {
        try transforms.map { transform -> RawFeature in
            guard let feature = RawFeature.allCases.first(where: { $0.name == transform.feature }) else {
                throw ListwiseError.usage("unknown feature '\(transform.feature)'")
            }
            return feature
        }
    }

    public static func build(_ table: FeatureTable, transforms: [FeatureTransform], rows: [Int]) throws -> Matrix {
        let features = try Self.features(transforms)
        let width = transforms.reduce(0) { $0 + $1.columns.count }
        var matrix = Matrix(rows: rows.count, columns: width)
        var scratch: [Double] = []
        matrix.values.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            var offset = 0
            for (feature, transform) in zip(features, transforms) {
                let column = table.values[feature.rawValue]
                for (k, row) in rows.enumerated() {
                    transform.write(column[row], into: base + k * width + offset, scratch: &scratch)
                }
                offset += transform.columns.count
            }
        }
        return matrix
    }

    /// SHA-256 of a design matrix and its labels (the model's training-data fingerprint).
    static func fingerprint(_ matrix: Matrix, labels: [Double]) -> String {
        var hasher = SHA256()
        matrix.values.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        labels.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return Hex.string(hasher.finalize())
    }
}
