// `listwise suppress`: adds a file of emails, phones or addresses to the global opt-out list.
import ArgumentParser
import Foundation
import ListwiseKit

struct SuppressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suppress",
        abstract: "Add emails, phone numbers or postal addresses to the global opt-out list.",
        discussion: """
            Reads FILE: a CSV whose header names any of email, phone, address (and zip), or a plain list with one \
            entry a line (an email, a phone number, or a street address ending in its zip). Suppressed people never \
            appear in any export. All entries or none are added: a bad entry is an error naming its line (exit 2).

            Example:
              listwise suppress opt-outs.csv
            """
    )

    @Argument(help: "The opt-out file.") var file: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let summary = try await database.withStore { try await $0.suppress(file: file, now: Date()) }
        Terminal.line("\(file): added \(summary.emails) emails, \(summary.phones) phones, \(summary.addresses) addresses"
                      + " to the opt-out list (\(summary.alreadyListed) already listed)")
    }
}
