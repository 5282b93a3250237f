// The refresh lock: one refresh at a time per database. A lock file beside the database,
// held with flock(2) (the kernel releases it when its process dies, however it dies) and
// holding the owner's pid and start time for the messages.
import Foundation

public final class RefreshLock {
    public let path: String
    private let descriptor: Int32
    /// The pid a dead run left in the file, when this lock took it over.
    public let staleOwner: Int32?

    /// Takes the lock of the database at `databasePath`, or throws `ListwiseError.lockHeld`
    /// (exit code 3) at once when another live process holds it.
    public init(databasePath: String, now: Date = Date()) throws {
        path = databasePath + ".refresh.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ListwiseError.runtime("cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
        _ = fchmod(fd, 0o600)   // whatever the umask, like the database it sits beside
        let previous = Self.readOwner(fd)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            let owner = previous.map { " (pid \($0.pid), started \($0.started))" } ?? ""
            throw ListwiseError.lockHeld("another refresh is running on this database\(owner); lock file \(path)")
        }
        descriptor = fd
        // A file with a pid but no lock: its run died (killed, crashed, machine restarted).
        staleOwner = previous.map(\.pid).flatMap { $0 > 0 && $0 != getpid() ? $0 : nil }
        let stamp = "\(getpid()) \(AppDatabase.timestamp(now))\n"
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, stamp, stamp.utf8.count, 0)
    }

    /// Releases the lock and empties the file (a later run sees no stale owner).
    public func release() {
        _ = ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    private static func readOwner(_ fd: Int32) -> (pid: Int32, started: String)? {
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let fields = String(decoding: buffer[..<count], as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard let first = fields.first, let pid = Int32(first) else { return nil }
        return (pid, fields.count > 1 ? String(fields[1]) : "?")
    }
}
