// `listwise apikey create|list|revoke`: keys for the Data API (SPEC §8). A key is printed once;
// the store keeps only its hash.
import ArgumentParser
import Foundation
import ListwiseKit

extension APIScope: ExpressibleByArgument {}

struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey",
        abstract: "Create, list and revoke keys of the Data API.",
        discussion: """
            A key is shown once, when it is created: listwise keeps only its SHA-256. Scope read sees scores, homes, \
            search and reports; scope export also sees owners' names and contacts and may export lists. A key given \
            territories sees only their homes; --allow-origin names a site that may embed its views.

            Examples:
              listwise apikey create crm --territory east-bay
              listwise apikey create marketing --scope export --allow-origin https://agent.example.com
              listwise apikey revoke crm
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it (once).")

        @Argument(help: "The key's name (letters, digits, '-', '_', '.').") var name: String
        @Option(help: "read or export.") var scope: APIScope = .read
        @Option(name: .customLong("territory"), help: ArgumentHelp("Limit the key to this territory (repeatable).", valueName: "name"))
        var territories: [String] = []
        @Option(name: .customLong("allow-origin"), help: ArgumentHelp("An origin that may embed the key's views (repeatable).", valueName: "url"))
        var origins: [String] = []
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let origins = self.origins.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            let key = try await database.withStore {
                try await $0.createAPIKey(name: name, scope: scope, territories: territories, allowedOrigins: origins, now: Date())
            }
            FileHandle.standardOutput.write(Data((key.secret + "\n").utf8))   // stdout, for a script to capture
            Terminal.line("API key '\(name)' (scope \(scope.rawValue)\(territories.isEmpty ? "" : ", territories \(territories.joined(separator: ", "))")): "
                          + "store it now, listwise keeps only its hash; send it as 'Authorization: Bearer KEY'")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys (never the keys themselves).")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let keys = try await database.withStore { try await $0.apiKeys() }
            let pad = { TextOutput.pad($0, $1) }
            var text = pad("name", 20) + " " + pad("scope", 7) + " " + pad("status", 8) + " " + pad("created", 25) + " territories / origins\n"
            for key in keys {
                let limits = (key.territories.isEmpty ? "all" : key.territories.joined(separator: ",")) + " / "
                    + (key.allowedOrigins.isEmpty ? "-" : key.allowedOrigins.joined(separator: ","))
                text += pad(key.name, 20) + " " + pad(key.scope.rawValue, 7) + " " + pad(key.revokedAt == nil ? "active" : "revoked", 8)
                    + " " + pad(key.createdAt, 25) + " " + limits + "\n"
            }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: it stops working at once.")

        @Argument(help: "The key's name.") var name: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await database.withStore { try await $0.revokeAPIKey(named: name, now: Date()) }
            Terminal.line("API key '\(name)' revoked")
        }
    }
}
