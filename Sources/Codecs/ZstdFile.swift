import CZstd

/// Streaming .zst writer: append bytes or lines; `close()` finishes the frame and renames
/// the temporary file into place. A writer that is never closed (or whose write failed)
/// leaves nothing at `path`. Memory is bounded by libzstd's window, whatever the size.
public final class ZstdFileWriter {
    public let path: String
    private let encoder: ZstdEncoder
    private let output: AtomicOutputFile
    private var state = State.open

    private enum State { case open, closed, failed(CodecError) }

    /// Creates the temporary file beside `path`. `level` must lie in
    /// ZSTD_minCLevel()...ZSTD_maxCLevel() (a precondition: levels are validated with the
    /// spec that sets them).
    public init(path: String, level: Int = 3) throws {
        self.path = path
        encoder = ZstdEncoder(level: level)
        output = try AtomicOutputFile(path: path)
    }

    /// Compresses and appends `bytes`.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Compresses and appends the UTF-8 encoding of `string` (add "\n" yourself for lines).
    public func write(_ string: String) throws {
        var string = string
        try string.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try guarded { try encoder.compress(bytes, end: false, name: path) { try output.write($0) } }
    }

    /// Finishes the zstd frame and renames the file into place. Calling it again is a no-op.
    public func close() throws {
        if case .closed = state { return }
        try guarded {
            try encoder.compress(UnsafeRawBufferPointer(start: nil, count: 0), end: true, name: path) {
                try output.write($0)
            }
            try output.commit()
        }
        state = .closed
    }

    /// Runs `body` in the open state; after a failure the output is abandoned and every
    /// later call rethrows the first error.
    private func guarded(_ body: () throws -> Void) throws {
        switch state {
        case .closed: preconditionFailure("ZstdFileWriter used after close(): \(path)")
        case .failed(let error): throw error
        case .open: break
        }
        do {
            try body()
        } catch let error as CodecError {
            output.abandon()
            state = .failed(error)
            throw error
        }
    }
}

/// Streaming .zst reader: decompresses a file chunk by chunk with bounded memory
/// (`read()`), or all at once (`readAll()`). Concatenated frames are read in sequence;
/// corrupt data and a file that ends inside a frame throw `CodecError`.
public final class ZstdFileReader {
    public let path: String
    private let file: InputFile
    private let decoder = ZstdDecoder()
    private var input: [UInt8]
    private var inputCount = 0
    private var inputPosition = 0
    /// The decoder's output buffer filled up last time: more output may be pending.
    private var outputPending = false
    private var atEnd = false

    public init(path: String) throws {
        self.path = path
        file = try InputFile(path: path)
        input = [UInt8](repeating: 0, count: ZSTD_DStreamInSize())
    }

    /// The next chunk of decompressed bytes (non-empty, at most ~128 KiB), or nil once the
    /// whole file has been decoded.
    public func read() throws -> [UInt8]? {
        var chunk: [UInt8]?
        _ = try next { chunk = Array($0) }
        return chunk
    }

    /// The whole decompressed content.
    public func readAll() throws -> [UInt8] {
        var all: [UInt8] = []
        all.reserveCapacity(min(file.sizeHint, 1 << 26) * 4)
        try forEachChunk { all.append(contentsOf: $0) }
        return all
    }

    /// Hands every remaining decompressed chunk to `body`, without copying.
    func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while try next(body) {}
    }

    /// Hands the next non-empty chunk to `body`; returns false (having checked that the
    /// last frame is complete) at the end of the file.
    private func next(_ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        while true {
            if inputPosition == inputCount && !outputPending {
                if atEnd {
                    try decoder.finish(name: path)
                    return false
                }
                inputCount = try file.read(into: &input)
                inputPosition = 0
                if inputCount == 0 { atEnd = true; continue }
            }
            var produced = false
            let count = inputCount
            var position = inputPosition
            outputPending = try input.withUnsafeBytes { raw in
                try decoder.step(UnsafeRawBufferPointer(rebasing: raw[0..<count]), position: &position, name: path) {
                    produced = true
                    try body($0)
                }
            }
            inputPosition = position
            if produced { return true }
        }
    }
}
