#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// POSIX file access for the codecs. Every output goes to a temporary file in the
// destination's directory (so the final rename is atomic) and is renamed into place
// only on success; an abandoned output removes its temporary file.

/// The text of the current `errno`.
func errnoText() -> String { String(cString: strerror(errno)) }

/// Reads a whole regular file.
func readFile(path: String) throws -> [UInt8] {
    let file = try InputFile(path: path)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(file.sizeHint)
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = try file.read(into: &chunk)
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<n])
    }
}

/// A regular file opened for sequential reading.
final class InputFile {
    let path: String
    /// The file size at open time (a capacity hint; the file may still change).
    let sizeHint: Int
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CodecError(path: path, message: "cannot open for reading: \(errnoText())",
                             hint: "check that the file exists and is readable")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let text = errnoText()
            close(fd)
            throw CodecError(path: path, message: "cannot stat: \(text)", hint: "check the file system")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw CodecError(path: path, message: "not a regular file",
                             hint: "pass the path of a file, not a directory or device")
        }
        self.fd = fd
        sizeHint = Int(st.st_size)
    }

    deinit { close(fd) }

    /// Fills `buffer` from its start with up to `buffer.count` bytes; returns how many
    /// were read, 0 at end of file.
    func read(into buffer: inout [UInt8]) throws -> Int {
        let capacity = buffer.count
        while true {
            let n = buffer.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress, capacity) }
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw CodecError(path: path, message: "read failed: \(errnoText())", hint: "check the file system")
        }
    }
}

/// A file written under a temporary name beside `path` and renamed to `path` by
/// `commit()`. If it is never committed (an error, a writer never closed), the
/// temporary file is removed and nothing appears at `path`.
final class AtomicOutputFile {
    let path: String
    let temporaryPath: String
    private var fd: Int32

    init(path: String) throws {
        self.path = path
        var template = Array((path + ".tmp.XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw CodecError(path: path, message: "cannot create a temporary file beside it: \(errnoText())",
                             hint: "check that the directory exists and is writable")
        }
        self.fd = fd
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        // mkstemp creates the file 0600; outputs are ordinary shared files.
        fchmod(fd, 0o644)
    }

    deinit { abandon() }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(fd >= 0, "write to a committed or abandoned output file")
        var offset = 0
        while offset < bytes.count {
            let n = posixWrite(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                let text = errnoText()
                abandon()
                throw CodecError(path: path, message: "write failed: \(text)",
                                 hint: "check free disk space and permissions")
            }
            offset += n
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Closes the temporary file and renames it to `path`, replacing any old file.
    func commit() throws {
        precondition(fd >= 0, "commit of a committed or abandoned output file")
        let closed = close(fd)
        fd = -1
        guard closed == 0 else {
            let text = errnoText()
            unlink(temporaryPath)
            throw CodecError(path: path, message: "close failed: \(text)", hint: "check free disk space")
        }
        guard rename(temporaryPath, path) == 0 else {
            let text = errnoText()
            unlink(temporaryPath)
            throw CodecError(path: path, message: "cannot rename \(temporaryPath) into place: \(text)",
                             hint: "check that the destination is not a directory and is writable")
        }
    }

    /// Discards the output: closes and removes the temporary file. Idempotent.
    func abandon() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(temporaryPath)
    }
}

// The POSIX calls under names that the methods called `read`/`write` do not shadow.
private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
