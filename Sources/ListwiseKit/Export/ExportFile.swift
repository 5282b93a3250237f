// Writing a list to its file: beside the destination under a hidden temporary name, owner-only
// (lists carry names and contacts), then renamed into place when the export commits.
import Foundation

enum ExportFile {
    /// Where a list is written before it is renamed to `path`: beside it, hidden, per process.
    static func temporaryPath(beside path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
    }

    /// Renames the written `temporary` file to `path`.
    static func moveIntoPlace(_ temporary: String, _ path: String) throws {
        guard rename(temporary, path) == 0 else {
            throw ListwiseError.runtime("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Creates `path` (replacing a leftover) with mode 0600 and writes `data` durably.
    static func writePrivateFile(_ data: Data, to path: String) throws {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw ListwiseError.usage("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < bytes.count {
                let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                guard written > 0 else {
                    let message = String(cString: strerror(errno))
                    unlink(path)
                    throw ListwiseError.runtime("cannot write \(path): \(message)")
                }
                offset += written
            }
        }
        guard fsync(fd) == 0 else {
            unlink(path)
            throw ListwiseError.runtime("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
