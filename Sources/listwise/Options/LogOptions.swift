// --log-format and --quiet, and the swift-log handler that writes one structured line per
// event to stderr: logfmt (`time=... level=info msg="imported" step=import file=a.csv`) or JSON.
import ArgumentParser
import Foundation
import ListwiseKit
import Logging

enum LogFormat: String, ExpressibleByArgument, CaseIterable { case logfmt, json }

struct LogOptions: ParsableArguments {
    @Option(name: .customLong("log-format"), help: "Log lines on stderr: logfmt or json.") var logFormat: LogFormat = .logfmt
    @Flag(help: "Print only errors.") var quiet = false

    func logger(label: String) -> Logger {
        var logger = Logger(label: label) { _ in StructuredLogHandler(format: logFormat) }
        logger.logLevel = quiet ? .error : .info
        return logger
    }
}

struct StructuredLogHandler: LogHandler {
    let format: LogFormat
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [(String, String)] = [("time", Self.timestamp(Date())), ("level", event.level.rawValue), ("msg", event.message.description)]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        // "step" first, then the rest by name: lines are easy to read and to diff.
        for key in merged.keys.sorted(by: { $0 == "step" ? $1 != "step" : $1 == "step" ? false : $0 < $1 }) {
            fields.append((key, "\(merged[key]!)"))
        }
        let line: String
        switch format {
        case .logfmt:
            line = fields.map { "\($0.0)=\(Self.logfmtValue($0.1))" }.joined(separator: " ")
        case .json:
            line = "{" + fields.map { "\(JSONText.quoted($0.0)):\(JSONText.quoted($0.1))" }.joined(separator: ",") + "}"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// ISO 8601 in UTC with milliseconds, as the database's timestamps: by gmtime_r, because
    /// ISO8601DateFormatter cost ~9 % of the server's time at one line a request.
    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):"
            + "\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds % 1000), 3))Z"
    }

    static func logfmtValue(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
