#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Size and modification time of a file, the parts of `stat(2)` that say it changed.
///
/// Read with `stat` directly rather than `FileManager.attributesOfItem`, which also
/// resolves owner and group names and costs several times more; the loader stamps
/// every file of a split (60,000 for Fashion-MNIST) before it may use its cache.
struct FileStamp: Equatable {
    var size: Int64
    var seconds: Int64
    var nanoseconds: Int64

    /// The stamp of `path`, or nil if it cannot be stat'ed.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        size = Int64(info.st_size)
        #if canImport(Glibc)
        seconds = Int64(info.st_mtim.tv_sec)
        nanoseconds = Int64(info.st_mtim.tv_nsec)
        #else
        seconds = Int64(info.st_mtimespec.tv_sec)
        nanoseconds = Int64(info.st_mtimespec.tv_nsec)
        #endif
    }
}
