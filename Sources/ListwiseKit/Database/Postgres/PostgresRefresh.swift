// The refresh lock and refresh runs on a PostgreSQL store (SPEC §5, §7): the lock is a
// session-level advisory lock, so it is one per database whichever host runs the refresh, and
// the server releases it when the holder's connection dies (a killed cron job, a lost host).
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// The advisory lock key of refreshes ("lw" "rf").
    static let refreshLockKey: Int64 = 0x6C77_7266

    public func withRefreshLock<T>(now: Date, logger: Logger, _ body: (Int32?) async throws -> T) async throws -> T {
        // The lock belongs to a session: one connection is leased for the whole body.
        try await withConnection { connection in
            var taken = false
            var holder = ""
            do {
                for try await got in try await connection.query("SELECT pg_try_advisory_lock(\(Self.refreshLockKey))", logger: self.logger)
                    .decode(Bool.self) {
                    taken = got
                }
                if !taken {
                    // Who holds it, for the message: the other session's client address and start.
                    for try await (address, started) in try await connection.query("""
                        SELECT coalesce(host(a.client_addr), 'local'), \(unescaped: Self.timestampText("a.backend_start"))
                        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                        WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                          AND (l.classid::bigint << 32 | l.objid::bigint) = \(Self.refreshLockKey)
                        LIMIT 1
                        """, logger: self.logger).decode((String, String).self) {
                        holder = " (a session from \(address), connected \(started))"
                    }
                }
            } catch {
                throw describe(error)
            }
            guard taken else {
                throw ListwiseError.lockHeld("another refresh is running on \(location)\(holder): PostgreSQL advisory lock \(Self.refreshLockKey)")
            }
            do {
                let value = try await body(nil)
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.refreshLockKey))", logger: self.logger)
                return value
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.refreshLockKey))", logger: self.logger)
                throw error
            }
        }
    }

    /// Records a refresh run as running; a run still 'running' here died without finishing (the
    /// lock was free).
    public func startRefreshRun(at now: Date) async throws -> Int64 {
        try await inTransaction { connection in
            // A killed run never said it failed: its refresh.failed event goes now.
            var killed: [Int64] = []
            for try await id in try await connection.query("SELECT id FROM refresh_runs WHERE status = 'running' ORDER BY id FOR UPDATE",
                                                            logger: logger).decode(Int64.self) {
                killed.append(id)
            }
            for id in killed {
                try await recordEvent(.refresh(id: id, status: "failed", report: RefreshReport(), error: AppDatabase.interrupted, now: now), on: connection)
            }
            try await connection.query("""
                UPDATE refresh_runs SET status = 'failed', error = \(AppDatabase.interrupted) WHERE status = 'running'
                """, logger: logger)
            for try await id in try await connection.query("""
                INSERT INTO refresh_runs (started_at, status) VALUES (\(now), 'running') RETURNING id
                """, logger: logger).decode(Int64.self) {
                return id
            }
            throw ListwiseError.runtime("\(location): no refresh run id returned")
        }
    }

    public func finishRefreshRun(_ id: Int64, status: String, report: RefreshReport, error: String?) async throws {
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        try await inTransaction { connection in
            try await connection.query("""
                UPDATE refresh_runs SET finished_at = \(Date()), status = \(status), report = \(json)::jsonb, error = \(error) WHERE id = \(id)
                """, logger: logger)
            try await recordEvent(.refresh(id: id, status: status, report: report, error: error, now: Date()), on: connection)
        }
    }
}
