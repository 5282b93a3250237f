// Whether a score run still describes today's model and data (SPEC §5: a command that reads a
// score run older than the newest model or import says so), and the command that renews it.
import Foundation

extension ScoreRunRecord {
    /// The command that scores this run's scope again.
    public var rescoreCommand: String {
        territory.map { "listwise score --territory \($0)" } ?? "listwise score"
    }
}
