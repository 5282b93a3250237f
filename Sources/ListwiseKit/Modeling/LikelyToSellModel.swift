// The likely-to-sell model (SPEC §2): transforms, coefficients, metrics, and the JSON model file.
import Crypto
import Foundation

public struct LikelyToSellModel: Codable, Equatable, Sendable {
    /// The version of logistic model files (unchanged since the first release, so that older
    /// listwise binaries keep reading them).
    public static let formatVersion = 1
    /// The version of gradient-boosted model files: an older listwise refuses them with a clear
    /// error instead of scoring with a logistic model that is not there.
    public static let treesFormatVersion = 2

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
    /// The model family; nil in files written before there were two (logistic).
    public var family: ModelFamily?
    /// gbm: the trees (over raw features); `features` and `coefficients` are then empty.
    public var trees: BoostedTrees?
    /// gbm: the map from the trees' raw score to a probability, learned on the inner split.
    public var calibration: PlattScaling?
    /// How the family was chosen (`auto`) or how the trees were early-stopped (`gbm`), on the
    /// inner split only.
    public var familyChoice: FamilyChoice?

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", createdAt = "created_at", horizonDays = "horizon_days"
        case trainingAsOf = "training_as_of", validationAsOf = "validation_as_of", l2, converged, iterations
        case features, intercept, coefficients, metrics, rows
        case trainingFingerprint = "training_fingerprint", notes, featureProfiles = "feature_profiles", tuning
        case family, trees, calibration, familyChoice = "family_choice"
    }

    public var columnNames: [String] { features.flatMap(\.columns) }

    /// The family the model was fitted as (files without one are logistic).
    public var modelFamily: ModelFamily { family ?? .logistic }

    /// The raw features this model reads.
    public func rawFeatures() throws -> [RawFeature] {
        let names = modelFamily == .gbm ? (trees?.features ?? []) : features.map(\.feature)
        return try names.map { name in
            guard let feature = RawFeature.allCases.first(where: { $0.name == name }) else {
                throw ListwiseError.usage("model uses feature '\(name)', which this version of listwise cannot compute")
            }
            return feature
        }
    }

    /// P(list or sell within the horizon) for every row of `table`.
    public func probabilities(_ table: FeatureTable) throws -> [Double] {
        if modelFamily == .gbm, let trees, let calibration {
            return HomeScore.treeRawScores(of: table, trees: trees, features: try rawFeatures()).map(calibration.probability)
        }
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
        guard let number = version.formatVersion, [formatVersion, treesFormatVersion].contains(number) else {
            throw ListwiseError.usage("\(path): model format version \(version.formatVersion.map(String.init) ?? "missing") is not supported (this listwise reads versions \(formatVersion) and \(treesFormatVersion))")
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
        if model.modelFamily == .gbm {
            guard number == treesFormatVersion, let trees = model.trees, model.calibration != nil else {
                throw ListwiseError.usage("\(path): a gbm model file needs format version \(treesFormatVersion), trees and a calibration")
            }
            for tree in trees.trees {
                let n = tree.nodeCount
                guard n > 0, [tree.threshold.count, tree.defaultLeft.count, tree.left.count, tree.right.count, tree.value.count, tree.cover.count]
                        .allSatisfy({ $0 == n }),
                      (0..<n).allSatisfy({ tree.feature[$0] < 0 || (tree.feature[$0] < trees.features.count
                          && tree.left[$0] > $0 && tree.left[$0] < n && tree.right[$0] > $0 && tree.right[$0] < n) }) else {
                    throw ListwiseError.usage("\(path): a tree of the model is malformed")
                }
            }
        }
        guard model.coefficients.count == model.columnNames.count else {
            throw ListwiseError.usage("\(path): \(model.coefficients.count) coefficients for \(model.columnNames.count) columns")
        }
        return model
    }
}

/// The two model families (SPEC §10).
public enum ModelFamily: String, Codable, Sendable, CaseIterable {
    /// L2-regularised logistic regression on spline-expanded, standardised features.
    case logistic
    /// Histogram gradient-boosted trees on the raw features, Platt-calibrated.
    case gbm
}

/// Platt scaling: P = σ(a·s + b) of a raw score s. The slope a is fitted by logistic regression of
/// the labels of the inner split's newest snapshot on the scores the trees fitted on the older
/// snapshots gave them (how far to stretch or shrink the trees' log-odds out of sample); the
/// intercept b is then set so that the mean probability over the model's own training rows is
/// their base rate, as the logistic model's is. Carrying the inner split's intercept instead
/// carried its base-rate drift to T: +6.6 % expected listings at 1M homes (README, families).
public struct PlattScaling: Codable, Equatable, Sendable {
    public var a: Double
    public var b: Double

    @inline(__always)
    public func probability(_ score: Double) -> Double { LogisticRegression.sigmoid(a * score + b) }

    /// The slope of `fit` with the intercept that makes Σ σ(a·sᵢ + b) = `positives` (Σ yᵢ, the
    /// number of 1s among the rows of `scores`) (Newton's method on b: the sum rises with b; the
    /// same sums on one thread or two).
    static func centred(slope a: Double, scores: [Double], positives target: Double) -> PlattScaling {
        let rate = min(max(target / Double(max(scores.count, 1)), 1e-12), 1 - 1e-12)
        var b = log(rate / (1 - rate)) - a * scores.reduce(0, +) / Double(max(scores.count, 1))
        let n = scores.count
        for _ in 0..<50 {
            // Σ p and Σ p(1 − p) over two fixed halves (on two threads for many scores).
            let halves = scores.withUnsafeBufferPointer { scores in
                inTwoHalves(n) { half in
                    var sums = SIMD2<Double>.zero
                    for i in half {
                        let p = LogisticRegression.sigmoid(a * scores[i] + b)
                        sums += SIMD2(p, p * (1 - p))
                    }
                    return sums
                }
            }
            let sum = halves.0.x + halves.1.x, slope = halves.0.y + halves.1.y
            guard slope > 0 else { break }
            let step = (target - sum) / slope
            b += step
            if abs(step) < 1e-12 { break }
        }
        return PlattScaling(a: a, b: b)
    }

    /// The unpenalised fit of labels `y` (both classes present) on `scores`: Newton's method on
    /// (a, b) with step halving, stopped as `LogisticRegression.fit` stops (relative change of the
    /// log loss under 1e-12), each step one pass over the scores in two fixed halves (on two
    /// threads for many scores; the same sums either way). Written out for two parameters: the
    /// general fit through BLAS blocks cost ~0.2 s of a 1M-home training for its three fits.
    /// Scores that do not vary (trees that never beat the base rate on the inner split) give the
    /// labels' base rate.
    static func fit(scores: [Double], labels y: [Double]) throws -> PlattScaling {
        let rate = min(max(y.reduce(0, +) / Double(max(y.count, 1)), 1e-12), 1 - 1e-12)
        let constant = PlattScaling(a: 0, b: log(rate / (1 - rate)))
        guard let low = scores.min(), let high = scores.max(), high - low > 1e-9 * max(1, abs(high)) else { return constant }
        guard scores.count == y.count else {
            throw LinearAlgebraError.dimensionMismatch("\(scores.count) scores, \(y.count) labels")
        }
        /// The log loss, its gradient (a, b) and Hessian at (a, b).
        struct Sums {
            var loss = 0.0, ga = 0.0, gb = 0.0, haa = 0.0, hab = 0.0, hbb = 0.0
            func adding(_ r: Sums) -> Sums {
                Sums(loss: loss + r.loss, ga: ga + r.ga, gb: gb + r.gb, haa: haa + r.haa, hab: hab + r.hab, hbb: hbb + r.hbb)
            }
        }
        let n = scores.count
        func sums(_ a: Double, _ b: Double) -> Sums {
            let halves = scores.withUnsafeBufferPointer { x in
                y.withUnsafeBufferPointer { y in
                    inTwoHalves(n) { half in
                        var s = Sums()
                        for i in half {
                            let eta = a * x[i] + b
                            let e = exp(-abs(eta))
                            let p = eta >= 0 ? 1 / (1 + e) : e / (1 + e)
                            s.loss += max(eta, 0) + log1p(e) - y[i] * eta
                            let r = y[i] - p, w = p * (1 - p)
                            s.ga += r * x[i]; s.gb += r
                            s.haa += w * x[i] * x[i]; s.hab += w * x[i]; s.hbb += w
                        }
                        return s
                    }
                }
            }
            return halves.0.adding(halves.1)
        }
        var a = 0.0, b = constant.b
        var current = sums(a, b)
        for _ in 0..<100 {
            let det = current.haa * current.hbb - current.hab * current.hab
            guard det > 0, det.isFinite else { break }
            let da = (current.hbb * current.ga - current.hab * current.gb) / det
            let db = (current.haa * current.gb - current.hab * current.ga) / det
            var t = 1.0
            var next = sums(a + da, b + db)
            while !(next.loss <= current.loss), t > 1e-10 {
                t /= 2
                next = sums(a + t * da, b + t * db)
            }
            guard next.loss <= current.loss else { break }
            a += t * da
            b += t * db
            let change = abs(next.loss - current.loss) / (abs(next.loss) + 0.1)
            current = next
            if change < 1e-12 { break }
        }
        return PlattScaling(a: a, b: b)
    }
}

/// One family's figures on the inner split (fitted on the older training snapshots, scored on
/// the newest).
public struct FamilyTrial: Codable, Equatable, Sendable {
    public var family: ModelFamily
    public var logLoss: Double
    public var rocAUC: Double
    /// gbm: trees kept by early stopping.
    public var trees: Int?

    enum CodingKeys: String, CodingKey { case family, logLoss = "log_loss", rocAUC = "roc_auc", trees }
}

/// How the family (and the trees' count and calibration) were chosen, on the inner split only.
public struct FamilyChoice: Codable, Equatable, Sendable {
    /// What was asked: logistic, gbm or auto.
    public var requested: String
    public var innerTrainingAsOf: [String]
    public var innerValidationAsOf: String
    public var innerTrainingRows: Int
    public var innerValidationRows: Int
    public var trials: [FamilyTrial]
    public var chosen: ModelFamily

    enum CodingKeys: String, CodingKey {
        case requested, innerTrainingAsOf = "inner_training_as_of", innerValidationAsOf = "inner_validation_as_of"
        case innerTrainingRows = "inner_training_rows", innerValidationRows = "inner_validation_rows", trials, chosen
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
