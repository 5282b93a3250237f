// `listwise train`: fits the likely-to-sell model and writes the model file (SPEC §2).
import ArgumentParser
import Foundation
import ListwiseKit

struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the likely-to-sell model and write a model file.",
        discussion: """
            Reads the database; writes a JSON model file (default Models/model-<as-of>.json). Fits a model on K stacked as-of snapshots (T - h, T - 2h, ...) and validates out of time at T once; prints the validation metrics to stderr. --family logistic fits L2-regularised logistic regression on spline-expanded features; gbm fits gradient-boosted trees whose count is chosen by early stopping on the inner split (fit on the older training snapshots, scored on the newest) and whose Platt calibration slope is learned there, then refits them on every training snapshot (the calibration's intercept set so that the mean probability over the training rows is their base rate); auto (the default) fits both on the inner split and keeps the one with the lower inner log loss. T is never looked at before every choice is made. With --l2 auto the penalty is chosen before T is looked at: each candidate is fitted on the older training snapshots and scored on the newest one, then the model is refitted on all of them. Memory does not grow with the design: the snapshots' rows and each design matrix go to unlinked temporary files (TMPDIR; about 1.15 GB of disk per million homes with 2 snapshots) and every IRLS step reads them back in blocks; what stays in memory is a few bytes a row (peak 253 MB at 1M homes). Progress (features, IRLS steps) shows when stderr is a terminal.

            Example:
              listwise train --snapshots 2 --l2 auto --out Models/county.json

            Exit codes: 0 trained; 2 bad options or not enough data; 1 other failure.
            """
    )

    @OptionGroup var asOf: AsOfOptions
    @Option(help: "Horizon in days: a home is positive if it lists or sells within it.") var horizon: Int = 365
    @Option(help: "Number of stacked training snapshots before the validation date.") var snapshots: Int = 2
    @Option(help: ArgumentHelp("L2 penalty (on standardised columns), or 'auto': chosen on an inner time split (fit on the older training snapshots, scored on the newest), never on the reported validation.", valueName: "lambda"))
    var l2: String = "1"
    @Option(help: ArgumentHelp("Model family: logistic (spline logistic regression), gbm (gradient-boosted trees, tree count by early stopping and Platt slope on the inner split) or auto (both fitted on the inner split; the lower inner log loss wins).", valueName: "family"))
    var family: String = "auto"
    @Option(help: ArgumentHelp("Model file to write.", valueName: "file")) var out: String?
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard horizon > 0 else { throw ValidationError("--horizon must be positive") }
        guard (1...20).contains(snapshots) else { throw ValidationError("--snapshots must be between 1 and 20") }
        guard FamilyRequest(rawValue: family) != nil else { throw ValidationError("--family must be logistic, gbm or auto") }
        if l2 != "auto" { guard let value = Double(l2), value > 0 else { throw ValidationError("--l2 must be a positive number or 'auto'") } }
    }

    func run() async throws {
        var settings = TrainingSettings()
        settings.asOfDay = try asOf.asOfDay()
        settings.horizonDays = horizon
        settings.snapshots = snapshots
        settings.penalty = l2 == "auto" ? .auto : .fixed(Double(l2)!)
        settings.marketRates = try asOf.rates()
        settings.family = FamilyRequest(rawValue: family)!
        let started = Date()
        let result = try await database.withStore { try await $0.trainModel(settings) { Terminal.progress($0) } }
        Terminal.endProgress()
        for warning in result.warnings { Terminal.warning(warning) }
        let model = result.model
        let path = out ?? "Models/model-\(model.validationAsOf).json"
        try model.write(to: path)
        if let tuning = model.tuning {
            Terminal.line("penalty chosen on the inner split: fitted on \(tuning.innerTrainingAsOf.joined(separator: ", ")) "
                          + "(\(tuning.innerTrainingRows) rows), scored on \(tuning.innerValidationAsOf) (\(tuning.innerValidationRows) rows):")
            for trial in tuning.trials {
                Terminal.line(String(format: "  l2 %-8g inner log loss %.5f  AUC %.4f%@", trial.l2, trial.logLoss,
                                     trial.rocAUC, trial.l2 == tuning.chosenL2 ? "  <- chosen" : ""))
            }
        }
        if let choice = model.familyChoice {
            Terminal.line("family \(choice.requested == "auto" ? "chosen" : "checked") on the inner split: fitted on \(choice.innerTrainingAsOf.joined(separator: ", ")) "
                          + "(\(choice.innerTrainingRows) rows), scored on \(choice.innerValidationAsOf) (\(choice.innerValidationRows) rows):")
            for trial in choice.trials {
                Terminal.line(String(format: "  %-8@ inner log loss %.5f  AUC %.4f%@%@", trial.family.rawValue, trial.logLoss, trial.rocAUC,
                                     trial.trees.map { ", \($0) trees" } ?? "", trial.family == choice.chosen ? "  <- chosen" : ""))
            }
        }
        let shape = model.modelFamily == .gbm
            ? "gradient-boosted trees: \(model.trees?.trees.count ?? 0) trees of up to \(model.trees?.settings.maxLeaves ?? 0) leaves"
            : "\(model.columnNames.count) columns, l2 \(model.l2), \(model.iterations) iterations\(model.converged ? "" : " (not converged)")"
        Terminal.line("trained on \(model.trainingAsOf.joined(separator: ", ")) (\(model.rows.training) rows, "
                      + "\(model.rows.trainingPositives) positives), \(shape)"
                      + String(format: " in %.1f s", Date().timeIntervalSince(started)))
        Terminal.line("time: " + result.phases.map { String(format: "%@ %.2f s", $0.name, $0.seconds) }.joined(separator: ", "))
        Terminal.line(MetricsReport.text(model.metrics, title: "out-of-time validation at \(model.validationAsOf), horizon \(model.horizonDays) days:"))
        Terminal.line("model: \(path)")
    }
}
