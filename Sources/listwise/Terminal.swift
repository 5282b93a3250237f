// stderr output for humans: error lines, summaries, and progress (only on a terminal).
import Foundation
import ListwiseKit

enum Terminal {
    static let stderrIsTTY = isatty(FileHandle.standardError.fileDescriptor) == 1

    static func error(_ message: String) {
        write("listwise: error: \(message)\n")
    }

    static func warning(_ message: String) {
        write("listwise: warning: \(message)\n")
    }

    /// Warns (one line) when `run` is older than the newest model in Models/ or the newest import.
    static func warnIfStale(_ run: ScoreRunRecord, in db: AppDatabase) throws {
        if let message = try db.stalenessWarning(for: run) { warning(message) }
    }

    static func warnIfStale(_ run: ScoreRunRecord, in store: any Store) async throws {
        if let message = try await store.stalenessWarning(for: run, modelsFolder: "Models") { warning(message) }
    }

    static func line(_ message: String) {
        write(message + "\n")
    }

    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Rewrites one status line in place; does nothing when stderr is not a terminal.
    static func progress(_ text: String) {
        guard stderrIsTTY else { return }
        write("\r\u{1B}[2K" + text)
    }

    /// ", 123,456 rows/s" (`unit`: " rows/s") since `start`, for progress lines; empty at first.
    static func rate(_ count: Int, since start: Date, unit: String) -> String {
        let seconds = Date().timeIntervalSince(start)
        return seconds < 0.5 ? "" : ", \(Int(Double(count) / seconds).grouped)\(unit)"
    }

    static func endProgress() {
        guard stderrIsTTY else { return }
        write("\r\u{1B}[2K")
    }
}
