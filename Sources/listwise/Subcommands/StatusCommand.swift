// `listwise status`: data counts, last runs, the active model and drift, for people and monitoring.
import ArgumentParser
import Foundation
import ListwiseKit

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show data counts, the last import, refresh and score run, the active model and drift.",
        discussion: """
            Reads the database and the newest model in Models/ (or --model); writes to stdout. Drift is the population \
            stability index (PSI) of each feature between the model's training snapshots and its latest score run; \
            above 0.25 it is flagged. Webhooks: endpoints, deliveries pending and failed. --format json for monitoring.

            Example:
              listwise status --format json
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Option(help: ArgumentHelp("Model file (default: the newest .json in --models).", valueName: "file")) var model: String?
    @Option(name: .customLong("models"), help: ArgumentHelp("Folder of model files.", valueName: "dir")) var models = "Models"
    @Option(help: "table or json.") var format: Format = .table
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let modelFile = model ?? (try? AppDatabase.newestModel(in: models).path)
        let (status, migrations, storeName, webhooks) = try await database.withStore { store in
            (try await store.status(modelFile: modelFile, now: Date()), try await store.appliedMigrations(), store.storeDescription,
             try await store.webhooks())
        }
        let (pending, failed) = (webhooks.map(\.pending).reduce(0, +), webhooks.map(\.failed).reduce(0, +))
        let out = FileHandle.standardOutput
        func line(_ text: String) { out.write(Data((text + "\n").utf8)) }
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            // The report's keys, with the store and its schema migrations.
            var object = try JSONSerialization.jsonObject(with: encoder.encode(status)) as? [String: Any] ?? [:]
            object["store"] = storeName
            object["migrations"] = migrations
            object["webhooks"] = ["endpoints": webhooks.count, "pending_deliveries": pending, "failed_deliveries": failed]
            out.write(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]) + Data("\n".utf8))
        case .table:
            line("store: \(storeName) (schema \(migrations.last ?? "none"))")
            let c = status.counts
            line("data: \(c.properties.grouped) properties, \(c.owners.grouped) owners, \(c.prospects.grouped) prospects, \(c.events.grouped) events")
            line("last import: " + (status.lastImport.map { "\($0.file) (\($0.kind)) at \($0.finishedAt): \($0.rows.grouped) rows, \($0.rejected.grouped) rejected" } ?? "none"))
            line("last refresh: " + (status.lastRefresh.map { "\($0.status) at \($0.finishedAt ?? $0.startedAt)" + ($0.error.map { ": \($0)" } ?? "") } ?? "none"))
            for signal in status.lastRefresh?.campaignsBecameSignificant ?? [] {
                line("  campaign \(signal.campaign) became significant: \(signal.verdict)")
            }
            line("last score run: " + (status.lastScoreRun.map { "\($0.id), as of \($0.asOf), \($0.territory ?? "all properties"), \($0.rows.grouped) homes, finished \($0.finishedAt)" } ?? "none"))
            if let m = status.model {
                line("model: \(m.file), " + String(format: "%.0f", m.ageDays) + " days old, validated at \(m.validationAsOf): "
                     + String(format: "ROC AUC %.4f, log loss %.4f", m.rocAUC, m.logLoss))
            } else {
                line("model: none")
            }
            line("webhooks: " + (webhooks.isEmpty ? "none" : "\(webhooks.count) endpoint\(webhooks.count == 1 ? "" : "s"), \(pending) deliveries pending, "
                 + "\(failed) failed" + (failed > 0 ? " (given up after 24 hours: see 'listwise webhook deliveries --failed')" : "")))
            line("drift: " + (status.driftNote ?? ""))
            for d in status.drift {
                line("  " + d.feature.padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: " PSI %.3f", d.psi)
                     + (d.drifted ? "  DRIFTED (> 0.25)" : ""))
            }
        }
    }
}
