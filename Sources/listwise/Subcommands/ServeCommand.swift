// `listwise serve`: the Data API (SPEC §8) in the foreground, for systemd or a container.
import ArgumentParser
import Foundation
import ListwiseKit
import ListwiseServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the Data API: scores, homes, search, reports and lists over HTTP.",
        discussion: """
            Reads the store (SQLite file or PostgreSQL) and the model files; writes only when a key with the export \
            scope exports a list (recorded as 'listwise export' records it) and to keep the search index up to date \
            (built at start when imports changed homes or people, then checked every 30 s). Runs in the foreground; \
            one log line per request on stderr (--log-format). SIGTERM or SIGINT: stops taking connections, lets the \
            requests in flight finish, exits 0. Exit codes: 0 stopped, 1 failure (port taken, store unreachable), 2 bad options.
            Keys: 'listwise apikey create'. The routes: GET /openapi.json.

            Example:
              listwise serve --port 8080 --db /var/lib/listwise/listwise.db
              curl -H "Authorization: Bearer $KEY" http://127.0.0.1:8080/v1/territories
            """
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, printed in the 'serving' line).") var port = 8080
    @Option(name: .customLong("models"), help: ArgumentHelp("Folder of model files (GET /v1/models).", valueName: "dir")) var models = "Models"
    @Option(name: .customLong("rate-limit"), help: ArgumentHelp("Requests a second per key, bursts of twice as many (0: no limit).", valueName: "n"))
    var rateLimit = 100
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var log: LogOptions

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard rateLimit >= 0 else { throw ValidationError("--rate-limit must be 0 or more") }
        guard !host.isEmpty else { throw ValidationError("--host must not be empty") }
    }

    func run() async throws {
        var settings = ServeSettings()
        settings.host = host
        settings.port = port
        settings.modelsFolder = models
        settings.rateLimitPerSecond = rateLimit
        let logger = log.logger(label: "listwise.serve")
        try await database.withStore { store in
            try await APIServer.run(store: store, settings: settings, logger: logger)
        }
    }
}
