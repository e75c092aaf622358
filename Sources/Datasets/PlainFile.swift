import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing a small file without `fsync`, for the tens of thousands of PNGs of an import.
///
/// Foundation's `Data.write(to:)` calls `fsync` on every file on Linux, which made a
/// Fashion-MNIST import spend most of its time waiting on the disk (70,000 syncs). The
/// tree is built under a temporary name and renamed into place as a whole, so durability
/// of each single file buys nothing.
enum PlainFile {
    /// Creates or truncates `path` (mode 0644) and writes `bytes` to it.
    static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw DatasetError(path: path, message: "cannot create: \(reason)",
                               hint: "check free space and permissions of its directory")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: Data(bytes))
            try handle.close()
        } catch {
            throw DatasetError(path: path, message: "cannot write: \(error.localizedDescription)",
                               hint: "check free space and permissions of its directory")
        }
    }
}
