// The `listwise` command: subcommands, version, and the one place errors become exit codes.
import ArgumentParser
import Foundation
import ListwiseKit

@main
struct ListwiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listwise",
        abstract: "Real-estate predictive analytics: likely-to-sell scores and target lists.",
        discussion: """
            Exit codes: 0 ok, 1 runtime failure, 2 usage or bad input, 3 lock held.
            The database is ./listwise.db unless --db or LISTWISE_DB says otherwise.
            """,
        version: "0.1.0",
        subcommands: [ImportCommand.self, SampleCommand.self]
    )

    /// Runs the command and maps every error to its exit code (SPEC §6): user mistakes print one
    /// line and exit 2, everything else exits 1. Never a stack trace.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as ListwiseError {
            Terminal.error(error.description)
            Foundation.exit(error.exitCode)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success || code.rawValue == 64 || error is ValidationError || error is CleanExit {
                exit(withError: error)  // help, version, and usage errors print as ArgumentParser does
            }
            Terminal.error(String(describing: error))
            Foundation.exit(1)
        }
    }
}
