// `listwise refresh`: the cron job. Inbox files in, model retrained when old, territories rescored.
import ArgumentParser
import Foundation
import ListwiseKit
import ListwiseWebhooks

struct RefreshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh",
        abstract: "Import new inbox files, retrain an old model, rescore: unattended, for cron.",
        discussion: """
            Reads every CSV in --inbox (kind from the file name or header; properties, owners, prospects, events in \
            that order) and moves each to processed/ or, when it is refused, to failed/ with a .error file beside it. \
            Retrains when the newest model in Models/ is older than --retrain-after days (and keeps the old one if the \
            new one validates worse), then rescores every property and every defined territory (or only each --territory). Never prompts. Holds a lock \
            (DB.refresh.lock) for its whole run; a lock left by a killed run is taken over. One structured log line per \
            step on stderr. Webhook events (refresh.completed or refresh.failed, score_run.completed) are delivered at the end. Exit codes: 0 ok; 1 a file was refused or a step failed (the log says which); 2 bad options; \
            3 another refresh holds the lock.

            Example (crontab, every night at 02:15):
              15 2 * * * cd /srv/listwise && listwise refresh --db /srv/listwise/county.db --inbox /srv/inbox --retrain-after 30 >>/var/log/listwise.log 2>&1
            """
    )

    @Option(help: ArgumentHelp("Folder where new CSV files arrive.", valueName: "dir")) var inbox: String
    @Option(name: .customLong("retrain-after"), help: ArgumentHelp("Retrain when the model is older than DAYS days.", valueName: "DAYS"))
    var retrainAfter: Int?
    @Option(help: ArgumentHelp("A territory to rescore (repeatable; default: every property and every territory).", valueName: "name")) var territory: [String] = []
    @Option(name: .customLong("models"), help: ArgumentHelp("Folder of model files.", valueName: "dir")) var models = "Models"
    @OptionGroup var asOf: AsOfOptions
    @OptionGroup var log: LogOptions
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if let retrainAfter, retrainAfter < 0 { throw ValidationError("--retrain-after must be 0 or more") }
    }

    func run() async throws {
        let logger = log.logger(label: "listwise.refresh")
        let today = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date())
        let day = try asOf.asOfDay() ?? DayNumber.from(year: today.year!, month: today.month!, day: today.day!)
        var settings = RefreshSettings(inbox: inbox, asOfDay: day)
        settings.retrainAfterDays = retrainAfter
        settings.territories = territory
        settings.modelsFolder = models
        settings.marketRates = try asOf.rates()
        let report = try await database.withStore { store in
            let result: Result<RefreshReport, Error>
            do { result = .success(try await store.refresh(settings, logger: logger)) } catch { result = .failure(error) }
            // The refresh's events (refresh.failed too) go out now; a receiver that fails is retried by
            // a later refresh, 'webhook deliver' or 'serve'. Not when another refresh holds the lock.
            if case .failure(ListwiseError.lockHeld) = result {} else {
                do {
                    try await WebhookDeliverer.deliverPending(store: store, logger: logger)
                } catch {
                    logger.error("webhook delivery failed", metadata: ["step": "webhooks", "error": "\(error)"])
                }
            }
            return try result.get()
        }
        if !report.failed.isEmpty {
            throw ListwiseError.runtime("refused: " + report.failed.keys.sorted().map { "\($0) (\(report.failed[$0]!))" }.joined(separator: "; "))
        }
    }
}
