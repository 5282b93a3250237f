// `listwise webhook add|list|remove|test|deliveries|deliver`: endpoints that other systems
// subscribe to the events of (SPEC §9), and their deliveries.
import ArgumentParser
import Foundation
import ListwiseKit
import ListwiseWebhooks

struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Subscribe other systems to events: refreshes, score runs, exports.",
        discussion: """
            Events: refresh.completed, refresh.failed, score_run.completed, export.completed (and ping, sent by \
            'webhook test'). Each is written in the same transaction as what it reports and posted as JSON to every \
            subscribed URL, signed with the endpoint's secret (header Listwise-Signature: t=<unix seconds>,v1=<hex \
            HMAC-SHA256 of "t.body">). A delivery that times out (10 s), cannot connect or gets an answer other than \
            2xx is retried with exponential backoff and jitter (10 s, 20 s, 40 s ... at most 1 h apart) for 24 hours, \
            then marked failed; events go out in order per endpoint, at least once, with the same event id on every \
            retry. 'listwise serve' delivers continuously; otherwise 'refresh' delivers at its end and \
            'webhook deliver' can run from cron.

            Examples:
              listwise webhook add https://crm.example.com/hooks/listwise --events score_run.completed,refresh.failed
              listwise webhook test 1
              listwise webhook deliveries --failed
              */5 * * * * listwise webhook deliver --db /srv/listwise/county.db
            """,
        subcommands: [Add.self, List.self, Remove.self, Test.self, Deliveries.self, Deliver.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Subscribe a URL to events and print its signing secret (once).")

        @Argument(help: "The https URL that receives the events.") var url: String
        @Option(help: ArgumentHelp("Events, comma-separated: refresh.completed, refresh.failed, score_run.completed, export.completed.",
                                   valueName: "list"))
        var events: String
        @Option(name: .customLong("territory"), help: ArgumentHelp("Only score runs and exports of this territory (repeatable).", valueName: "name"))
        var territories: [String] = []
        @Flag(name: .customLong("allow-http"), help: "Accept a plain http URL (loopback and tests).") var allowHTTP = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let types = try Webhooks.parseEvents(events)
            let new = try await database.withStore {
                try await $0.addWebhook(url: url, events: types, territories: territories, allowHTTP: allowHTTP, now: Date())
            }
            FileHandle.standardOutput.write(Data((new.secret + "\n").utf8))   // stdout, for a script to capture
            Terminal.line("webhook \(new.id): \(url) gets \(types.map(\.rawValue).joined(separator: ", ")); "
                          + "verify each delivery with the secret above (shown once)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the endpoints, with pending and failed deliveries.")

        @Option(help: "table or json.") var format: OutputFormat = .table
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let hooks = try await database.withStore { try await $0.webhooks() }
            if format == .json {
                try TextOutput.writeJSON(hooks)
                return
            }
            let pad = { TextOutput.pad($0, $1) }
            var text = pad("id", 4) + " " + pad("url", 44) + " " + pad("pending", 7) + " " + pad("failed", 6) + " events / territories\n"
            for hook in hooks {
                text += pad(String(hook.id), 4) + " " + pad(hook.url, 44) + " " + pad(String(hook.pending), 7) + " " + pad(String(hook.failed), 6) + " "
                    + hook.events.map(\.rawValue).joined(separator: ",") + " / " + (hook.territories.isEmpty ? "all" : hook.territories.joined(separator: ",")) + "\n"
            }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an endpoint; its pending deliveries are cancelled.")

        @Argument(help: "The webhook's id (see 'webhook list').") var id: Int64
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await database.withStore { try await $0.removeWebhook(id: id, now: Date()) }
            Terminal.line("webhook \(id) removed")
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a ping event to an endpoint now and say what it answered.",
            discussion: "The ping is queued behind the endpoint's earlier deliveries (events go in order). Exit 1 when it was not delivered.")

        @Argument(help: "The webhook's id (see 'webhook list').") var id: Int64
        @OptionGroup var log: LogOptions
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let logger = log.logger(label: "listwise.webhook")
            try await database.withStore { store in
                let eventID = try await store.queuePing(webhookID: id, now: Date())
                try await WebhookDeliverer.deliverPending(store: store, logger: logger)
                let delivery = try await store.webhookDeliveries(failedOnly: false, limit: 1000).first { $0.eventID == eventID && $0.webhookID == id }
                guard let delivery, delivery.status == "delivered" else {
                    let why = delivery?.lastError ?? "queued behind earlier deliveries"
                    throw ListwiseError.runtime("webhook \(id): ping \(eventID) not delivered (\(why)); it is retried by 'webhook deliver' or 'serve'")
                }
                Terminal.line("webhook \(id): ping \(eventID) delivered (HTTP \(delivery.lastStatus ?? 0))")
            }
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deliveries, newest event first.")

        @Flag(help: "Only deliveries given up after their 24-hour retry window.") var failed = false
        @Option(help: "At most this many.") var limit = 50
        @Option(help: "table or json.") var format: OutputFormat = .table
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            if limit < 1 { throw ValidationError("--limit must be 1 or more") }
        }

        func run() async throws {
            let deliveries = try await database.withStore { try await $0.webhookDeliveries(failedOnly: failed, limit: limit) }
            if format == .json {
                try TextOutput.writeJSON(deliveries)
                return
            }
            let pad = { TextOutput.pad($0, $1) }
            var text = pad("webhook", 7) + " " + pad("event", 36) + " " + pad("type", 19) + " " + pad("status", 9) + " " + pad("tries", 5)
                + " last answer / next try\n"
            for d in deliveries {
                let last = d.lastError ?? d.lastStatus.map { "HTTP \($0)" } ?? "-"
                text += pad(String(d.webhookID), 7) + " " + pad(d.eventID, 36) + " " + pad(d.type, 19) + " " + pad(d.status, 9) + " "
                    + pad(String(d.attempts), 5) + " " + last + (d.nextAttemptAt.map { " / next \($0)" } ?? "") + "\n"
            }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    struct Deliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Post the deliveries that are due (for cron, when no 'listwise serve' runs).",
            discussion: "One pass: every due delivery is posted once; those that fail wait for their next try. Exit 0 even when a receiver failed (the log says so).")

        @OptionGroup var log: LogOptions
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let logger = log.logger(label: "listwise.webhook")
            let summary = try await database.withStore { try await WebhookDeliverer.deliverPending(store: $0, logger: logger) }
            logger.info("webhook deliveries", metadata: ["delivered": "\(summary.delivered)", "retrying": "\(summary.retrying)",
                                                         "failed": "\(summary.failed)"])
        }
    }
}
