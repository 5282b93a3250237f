// Where `--db` points (SPEC §7): an SQLite file (the default, embedded) or a PostgreSQL server
// given as a libpq-style URL, postgresql://user[:password]@host[:port]/dbname[?sslmode=...].
import Foundation

public enum StoreLocation: Equatable, Sendable {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// Reads a `--db` value: a `postgresql://` or `postgres://` URL, else an SQLite path.
    public init(_ value: String) throws {
        let lower = value.lowercased()
        if lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") {
            self = .postgres(try PostgresLocation(url: value))
        } else {
            self = .sqlite(path: value)
        }
    }
}

public struct PostgresLocation: Equatable, Sendable, CustomStringConvertible {
    /// libpq's sslmode values that listwise honours. `require` encrypts without checking the
    /// certificate (as libpq does); `verify-full` also checks it against the system's CAs.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode

    public init(url: String) throws {
        func bad(_ why: String) -> ListwiseError {
            ListwiseError.usage("--db \(Self.redacted(url)): \(why) (expected postgresql://user[:password]@host[:port]/dbname[?sslmode=require])")
        }
        guard let components = URLComponents(string: url) else { throw bad("not a valid URL") }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw bad("port \(port) is out of range") }
        guard let user = components.user.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw bad("no user name")
        }
        self.user = user
        password = components.password?.removingPercentEncoding
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard let database = path.removingPercentEncoding, !database.isEmpty, !database.contains("/") else {
            throw bad("no database name")
        }
        self.database = database
        sslMode = .prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(SSLMode.init(rawValue:)) else {
                    throw bad("sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = mode
            case "application_name", "connect_timeout":
                continue
            default:
                throw bad("unknown parameter '\(item.name)'")
            }
        }
    }

    /// The URL without its password, for messages and logs.
    public var description: String { "postgresql://\(user)@\(host):\(port)/\(database)" }

    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
