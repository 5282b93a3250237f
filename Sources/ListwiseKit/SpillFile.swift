// Temporary files for data that does not fit the memory bounds (issue 15): training rows and
// designs, import rows that arrived out of key order. Unlinked as soon as they are created:
// nothing is left behind by a crash or a kill. They go to the temporary directory (TMPDIR).
import Foundation

/// An unlinked temporary file, written by appending and read at any offset by `pread` (from
/// several threads at once).
final class SpillFile: @unchecked Sendable {
    private let descriptor: Int32
    private let directory: String
    /// What the file holds, for error messages ("training rows").
    private let contents: String
    /// Bytes appended so far (only `append` changes it, from one thread).
    private(set) var size = 0

    init(holding contents: String) throws {
        self.contents = contents
        directory = FileManager.default.temporaryDirectory.path
        var template = Array("\(directory)/listwise-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw ListwiseError.runtime("cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(size + done))
            if written < 0 {
                if errno == EINTR { continue }
                throw ListwiseError.runtime("cannot write \(contents) to a temporary file in \(directory): \(String(cString: strerror(errno))) (TMPDIR chooses the directory)")
            }
            done += written
        }
        size += bytes.count
    }

    func read(into target: UnsafeMutableRawPointer, count: Int, at offset: Int) throws {
        var done = 0
        while done < count {
            let got = pread(descriptor, target + done, count - done, off_t(offset + done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                throw ListwiseError.runtime("cannot read \(contents) back from a temporary file in \(directory): \(got < 0 ? String(cString: strerror(errno)) : "short read")")
            }
            done += got
        }
    }
}
