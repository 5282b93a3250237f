// The errors listwise reports to its users, by exit-code class (SPEC §6).
import Foundation

public enum ListwiseError: Error, Equatable, CustomStringConvertible {
    /// A user mistake (bad input file, bad option value): exit code 2, one clear line.
    case usage(String)
    /// Another run holds the lock: exit code 3.
    case lockHeld(String)
    /// Anything else that went wrong at run time: exit code 1.
    case runtime(String)

    public var description: String {
        switch self {
        case .usage(let message), .lockHeld(let message), .runtime(let message): return message
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .usage: return 2
        case .lockHeld: return 3
        case .runtime: return 1
        }
    }
}
