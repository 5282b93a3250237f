// The `listwise` command: subcommands, version, and the one place errors become exit codes.
import ArgumentParser
import Foundation
import ListwiseKit

@main
struct ListwiseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listwise",
        abstract: "Real-estate predictive analytics: likely-to-sell scores and target lists.",
        discussion: """
            Exit codes: 0 ok, 1 runtime failure, 2 usage or bad input, 3 lock held. The database is ./listwise.db unless --db or LISTWISE_DB says otherwise.
            """,
        version: "0.1.0",
        subcommands: [ImportCommand.self, TrainCommand.self, EvaluateCommand.self, FeaturesCommand.self, TerritoryCommand.self, ScoreCommand.self, ScoresCommand.self, ReportCommand.self, ExportCommand.self, SuppressCommand.self, CampaignsCommand.self, CampaignCommand.self, APIKeyCommand.self, WebhookCommand.self, ServeCommand.self, RefreshCommand.self, StatusCommand.self, DbCommand.self, SampleCommand.self]
    )

    /// Runs the command and maps every error to its exit code (SPEC §6): user mistakes print one
    /// clear line and exit 2, a held lock exits 3, everything else exits 1. Never a stack trace.
    static func main() async {
        let command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }  // --help, --version
            Terminal.write(fullMessage(for: error) + "\n")
            Foundation.exit(2)
        }
        do {
            if var command = command as? AsyncParsableCommand {
                try await command.run()   // commands that can talk to PostgreSQL
            } else {
                var command = command
                try command.run()
            }
        } catch let error as ListwiseError {
            Terminal.error(error.description)
            Foundation.exit(error.exitCode)
        } catch let error as ValidationError {
            Terminal.error(error.message)
            Foundation.exit(2)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            // ArgumentParser's own errors (help shown by a subcommand, usage) keep its wording.
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            if code == .validationFailure {
                Terminal.write(fullMessage(for: error) + "\n")
                Foundation.exit(2)
            }
            Terminal.error(String(describing: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "failed")
            Foundation.exit(1)
        }
    }
}
