import CZstd

/// zstd compression through libzstd's streaming API (ZSTD_compressStream2 /
/// ZSTD_decompressStream). Frames carry a content checksum, so corruption is detected;
/// compression is single-threaded, so the same bytes and level give the same output.
/// Input that ends inside a frame is reported as truncated.
public enum Zstd {
    /// Compresses `bytes` into one zstd frame (with its content size and checksum).
    /// `level` is zstd's, 1...19 in practice (negative levels are the fast modes).
    public static func compress(_ bytes: [UInt8], level: Int = 3) throws -> [UInt8] {
        let encoder = ZstdEncoder(level: level, contentSize: bytes.count)
        var out: [UInt8] = []
        try bytes.withUnsafeBytes { input in
            try encoder.compress(input, end: true, name: "<memory>") { out.append(contentsOf: $0) }
        }
        return out
    }

    /// Decompresses one or more concatenated zstd frames; `name` labels errors.
    public static func decompress(_ bytes: [UInt8], name: String) throws -> [UInt8] {
        let decoder = ZstdDecoder()
        var out: [UInt8] = []
        try bytes.withUnsafeBytes { input in
            var position = 0
            var full = false
            repeat {
                full = try decoder.step(input, position: &position, name: name) { out.append(contentsOf: $0) }
            } while position < input.count || full
        }
        try decoder.finish(name: name)
        return out
    }

    /// Compresses the file at `source` into `destination` (temporary name, then rename),
    /// streaming: memory stays bounded whatever the file size.
    public static func compressFile(at source: String, to destination: String, level: Int = 3) throws {
        let input = try InputFile(path: source)
        let writer = try ZstdFileWriter(path: destination, level: level)
        var chunk = [UInt8](repeating: 0, count: ZSTD_CStreamInSize())
        while true {
            let n = try input.read(into: &chunk)
            if n == 0 { break }
            try chunk.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        try writer.close()
    }

    /// Decompresses the zstd file at `source` into `destination` (temporary name, then
    /// rename), streaming. Nothing appears at `destination` if `source` is corrupt or truncated.
    public static func decompressFile(at source: String, to destination: String) throws {
        let reader = try ZstdFileReader(path: source)
        let output = try AtomicOutputFile(path: destination)
        try reader.forEachChunk { try output.write($0) }
        try output.commit()
    }
}

/// A compression context producing one frame. `compress` may be called many times;
/// the call with `end: true` finishes the frame.
final class ZstdEncoder {
    private let context: OpaquePointer
    private var buffer: [UInt8]

    /// `contentSize`, when known, is recorded in the frame header.
    init(level: Int, contentSize: Int? = nil) {
        precondition((Int(ZSTD_minCLevel())...Int(ZSTD_maxCLevel())).contains(level),
                     "zstd level \(level) outside \(ZSTD_minCLevel())...\(ZSTD_maxCLevel())")
        guard let context = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx: out of memory") }
        self.context = context
        buffer = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
        // Parameters are valid by construction (level checked above), so failures here
        // would be libzstd bugs; they are checked all the same.
        for (parameter, value) in [(ZSTD_c_compressionLevel, Int32(level)), (ZSTD_c_checksumFlag, 1),
                                   (ZSTD_c_nbWorkers, 0)] {
            precondition(ZSTD_isError(ZSTD_CCtx_setParameter(context, parameter, value)) == 0)
        }
        if let contentSize {
            precondition(ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(context, UInt64(contentSize))) == 0)
        }
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Feeds all of `input`, handing compressed output to `sink` as it is produced.
    func compress(_ input: UnsafeRawBufferPointer, end: Bool, name: String,
                  sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        let context = self.context
        try buffer.withUnsafeMutableBytes { out in
            while true {
                var target = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                let remaining = ZSTD_compressStream2(context, &target, &source, end ? ZSTD_e_end : ZSTD_e_continue)
                if ZSTD_isError(remaining) != 0 {
                    throw CodecError(path: name, message: "zstd compression failed: \(zstdErrorName(remaining))",
                                     hint: "this is a libzstd failure, usually out of memory")
                }
                if target.pos > 0 { try sink(UnsafeRawBufferPointer(rebasing: out[0..<target.pos])) }
                // e_end: done when nothing is left to flush; e_continue: when input is consumed.
                if end ? remaining == 0 : source.pos == source.size { return }
            }
        }
    }
}

/// A decompression context reading any number of concatenated frames.
final class ZstdDecoder {
    private let context: OpaquePointer
    private var buffer: [UInt8]
    /// The last call that made progress left a frame unfinished.
    private var insideFrame = false
    private var sawInput = false

    init() {
        guard let context = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx: out of memory") }
        self.context = context
        buffer = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
    }

    deinit { ZSTD_freeDCtx(context) }

    /// One ZSTD_decompressStream call on `input[position...]`: advances `position`, hands
    /// the output (at most one buffer, possibly empty) to `sink`, and returns true when
    /// the output buffer was filled, so more output may be pending even without input.
    func step(_ input: UnsafeRawBufferPointer, position: inout Int, name: String,
              sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        if position < input.count { sawInput = true }
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: position)
        let context = self.context
        let (produced, hint) = buffer.withUnsafeMutableBytes { out -> (Int, Int) in
            var target = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
            let hint = ZSTD_decompressStream(context, &target, &source)
            return (target.pos, hint)
        }
        if ZSTD_isError(hint) != 0 {
            throw CodecError(path: name, message: "corrupt zstd data: \(zstdErrorName(hint))",
                             hint: "the file is damaged or not zstd-compressed; re-create or re-download it")
        }
        // A non-zero hint means the current frame is not complete yet; a call that neither
        // consumed nor produced anything says nothing about that.
        if source.pos != position || produced > 0 { insideFrame = hint != 0 }
        position = source.pos
        if produced > 0 { try buffer.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
        return produced == buffer.count
    }

    /// Call at the end of the input: throws if it was empty or ended inside a frame.
    func finish(name: String) throws {
        if !sawInput {
            throw CodecError(path: name, message: "empty input, not a zstd frame",
                             hint: "the file is empty; re-create it")
        }
        if insideFrame {
            throw CodecError(path: name, message: "truncated zstd data: input ends inside a frame",
                             hint: "the file was cut short (interrupted write or download); re-create it")
        }
    }
}

func zstdErrorName(_ code: Int) -> String { String(cString: ZSTD_getErrorName(code)) }
