// `listwise evaluate`: re-scores a labelled snapshot with a model file and prints the metrics.
import ArgumentParser
import Foundation
import ListwiseKit

struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a model file on a labelled as-of snapshot.",
        discussion: """
            Reads the database and the model file (either family: logistic or gbm); prints the model's family, ROC AUC, PR AUC, log loss, Brier, lift, capture and calibration by decile to stdout (a table, or JSON with --format json).

            Example:
              listwise evaluate --model Models/sample.json --as-of 2024-12-31 --format json

            Exit codes: 0 ok; 2 unreadable model, unknown format version, missing features, or no labels at that date; 1 other failure.
            """
    )

    @Option(help: ArgumentHelp("Model file.", valueName: "file")) var model: String
    @OptionGroup var asOf: AsOfOptions
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let loaded = try LikelyToSellModel.load(path: model)
        let day = try asOf.asOfDay()
        let rates = try asOf.rates()
        let metrics = try await database.withStore { try await $0.evaluateModels([loaded], asOfDay: day, marketRates: rates)[0] }
        let date = day.map(DayNumber.iso) ?? loaded.validationAsOf
        switch format {
        case .json:
            struct Output: Encodable {
                var model: String, asOf: String, horizonDays: Int, metrics: ModelMetrics
                enum CodingKeys: String, CodingKey { case model, asOf = "as_of", horizonDays = "horizon_days", metrics }
            }
            // The SPEC's keys at the top level: roc_auc, pr_auc, ..., plus lift_by_decile and calibration.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            var object = try JSONSerialization.jsonObject(with: encoder.encode(metrics)) as! [String: Any]
            let deciles = object.removeValue(forKey: "deciles") as? [[String: Any]] ?? []
            object["lift_by_decile"] = deciles.map { ["decile": $0["decile"]!, "lift": $0["lift"]!, "cumulative_capture": $0["cumulative_capture"]!] }
            object["calibration"] = deciles.map { ["decile": $0["decile"]!, "mean_predicted": $0["mean_predicted"]!, "observed_rate": $0["observed_rate"]!, "rows": $0["rows"]!] }
            object["model"] = model
            object["family"] = loaded.modelFamily.rawValue
            object["as_of"] = date
            object["horizon_days"] = loaded.horizonDays
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        case .table:
            let family = loaded.trees.map { "gbm, \($0.trees.count) trees" } ?? "logistic"
            print(MetricsReport.text(metrics, title: "\(model) (\(family)) at \(date), horizon \(loaded.horizonDays) days:"))
        }
    }
}
