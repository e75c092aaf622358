import CZlib

/// gzip (RFC 1952) through zlib. Decompression reads multi-member files (as `cat a.gz
/// b.gz` makes) and checks every member's CRC and length; truncated or corrupt input
/// throws `CodecError`. Compression writes one member with no name and mtime 0, so the
/// output depends only on the input.
public enum Gzip {
    /// Reads and decompresses the gzip file at `path`.
    public static func decompress(path: String) throws -> [UInt8] {
        try decompress(readFile(path: path), name: path)
    }

    /// Decompresses gzip data held in memory; `name` labels errors.
    public static func decompress(_ bytes: [UInt8], name: String) throws -> [UInt8] {
        guard !bytes.isEmpty else {
            throw CodecError(path: name, message: "empty input, not gzip data", hint: "re-create or re-download the file")
        }
        var stream = z_stream()
        // windowBits 15 + 16: a gzip header and trailer rather than zlib's.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw CodecError(path: name, message: "zlib inflateInit2 failed", hint: "out of memory?")
        }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        out.reserveCapacity(min(bytes.count, 1 << 26) * 4)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var members = 0
        try bytes.withUnsafeBufferPointer { input in
            var offset = 0
            while true {
                // avail_in is 32-bit: feed at most 1 GiB at a time.
                if stream.avail_in == 0 && offset < input.count {
                    let n = min(input.count - offset, 1 << 30)
                    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + offset)
                    stream.avail_in = UInt32(n)
                    offset += n
                }
                let inputLeft = stream.avail_in > 0 || offset < input.count
                let (status, produced) = buffer.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, out.count - Int(stream.avail_out))
                }
                out.append(contentsOf: buffer[0..<produced])
                switch status {
                case Z_STREAM_END:
                    members += 1
                    if stream.avail_in == 0 && offset == input.count { return }
                    // Another member follows.
                    guard inflateReset(&stream) == Z_OK else {
                        throw CodecError(path: name, message: "zlib inflateReset failed", hint: "out of memory?")
                    }
                case Z_OK:
                    continue
                case Z_BUF_ERROR where !inputLeft:
                    throw CodecError(path: name, message: "truncated gzip data: input ends inside member \(members + 1)",
                                     hint: "the file was cut short (interrupted write or download); re-create it")
                default:
                    let detail = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    let whereText = members > 0 ? " after \(members) complete member(s)" : ""
                    throw CodecError(path: name, message: "corrupt gzip data\(whereText): \(detail)",
                                     hint: "the file is damaged or not gzip-compressed; re-create or re-download it")
                }
            }
        }
        return out
    }

    /// Compresses `bytes` into one gzip member (zlib's default level).
    public static func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw CodecError(path: "<memory>", message: "zlib deflateInit2 failed", hint: "out of memory?")
        }
        defer { deflateEnd(&stream) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        try bytes.withUnsafeBufferPointer { input in
            var offset = 0
            while true {
                if stream.avail_in == 0 && offset < input.count {
                    let n = min(input.count - offset, 1 << 30)
                    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + offset)
                    stream.avail_in = UInt32(n)
                    offset += n
                }
                let flush = offset == input.count ? Z_FINISH : Z_NO_FLUSH
                let (status, produced) = buffer.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    let status = deflate(&stream, flush)
                    return (status, out.count - Int(stream.avail_out))
                }
                out.append(contentsOf: buffer[0..<produced])
                if status == Z_STREAM_END { return }
                guard status == Z_OK || status == Z_BUF_ERROR else {
                    throw CodecError(path: "<memory>", message: "zlib deflate failed (\(status))", hint: "out of memory?")
                }
            }
        }
        return out
    }
}
