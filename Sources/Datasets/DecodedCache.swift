import Foundation

/// The decoded cache of a split, `<root>/.cache/<split>.bin` (docs/datasets.md, "Cache").
///
/// Layout, integers little-endian:
/// ```
/// 0   8 bytes   magic "PSPHDEC1"
/// 8   UInt64    fingerprint of the tree state (DatasetTree.fingerprint)
/// 16  UInt64    N, number of images
/// 24  UInt32×3  C, H, W
/// 36  UInt32    0 (reserved)
/// 40  Float64×C mean, then Float64×C std (IEEE bit patterns)
///     UInt32×N  labels
///     UInt8×N·C·H·W pixels, N×C×H×W
///     UInt64    payload check: FNV1a.blocks over every byte before it
/// ```
/// A file that is short, long, has another magic or fails the payload check is corrupt;
/// the loader then decodes the PNGs again and rewrites it.
public enum DecodedCache {
    static let magic = Array("PSPHDEC1".utf8)
    static let headerSize = 40

    public static func encode(_ split: DecodedSplit) -> [UInt8] {
        let images = split.images
        var out = [UInt8]()
        out.reserveCapacity(headerSize + 16 * images.channels + 4 * images.count + images.pixels.count + 8)
        out += magic
        append(&out, split.fingerprint)
        append(&out, UInt64(images.count))
        for value in [images.channels, images.height, images.width, 0] { append(&out, UInt32(value)) }
        for value in split.mean + split.std { append(&out, value.bitPattern) }
        for label in images.labels { append(&out, UInt32(label)) }
        out += images.pixels
        append(&out, FNV1a.blocks(out))
        return out
    }

    /// Parses a cache file's bytes; nil with a reason if they are not a sound cache.
    public static func decode(_ bytes: [UInt8]) -> Result<DecodedSplit, CacheCorruption> {
        guard bytes.count >= headerSize + 8 else { return .failure(.init("\(bytes.count) bytes, shorter than a header")) }
        guard Array(bytes[0..<8]) == magic else { return .failure(.init("bad magic")) }
        let n = Int(clamping: read(bytes, at: 16, as: UInt64.self))
        let c = Int(read(bytes, at: 24, as: UInt32.self))
        let h = Int(read(bytes, at: 28, as: UInt32.self))
        let w = Int(read(bytes, at: 32, as: UInt32.self))
        let (pixelCount, o1) = n.multipliedReportingOverflow(by: c * h * w)
        let expected = headerSize + 16 * c + 4 * n + pixelCount + 8
        guard !o1, c > 0, c <= 4, expected == bytes.count else {
            return .failure(.init("\(bytes.count) bytes, the header implies \(o1 ? "an impossible size" : String(expected))"))
        }
        let payloadEnd = bytes.count - 8
        guard FNV1a.blocks(bytes[0..<payloadEnd]) == read(bytes, at: payloadEnd, as: UInt64.self) else {
            return .failure(.init("payload check failed"))
        }
        let stats = (0..<(2 * c)).map { Double(bitPattern: read(bytes, at: headerSize + 8 * $0, as: UInt64.self)) }
        let labelStart = headerSize + 16 * c
        let labels = (0..<n).map { Int(read(bytes, at: labelStart + 4 * $0, as: UInt32.self)) }
        let pixelStart = labelStart + 4 * n
        let images = LabelledImages(channels: c, height: h, width: w,
                                    pixels: Array(bytes[pixelStart ..< pixelStart + pixelCount]), labels: labels)
        return .success(DecodedSplit(fingerprint: read(bytes, at: 8, as: UInt64.self), images: images,
                                     mean: Array(stats[0..<c]), std: Array(stats[c...])))
    }

    /// Why a cache file was not trusted.
    public struct CacheCorruption: Error, Equatable {
        public var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    static func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ value: T) {
        for k in 0..<(T.bitWidth / 8) { out.append(UInt8(truncatingIfNeeded: value >> (8 * k))) }
    }

    static func read<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as: T.Type) -> T {
        var value: T = 0
        for k in 0..<(T.bitWidth / 8) { value |= T(bytes[offset + k]) << (8 * k) }
        return value
    }
}

extension FNV1a {
    /// Hash of a large buffer, computed on all cores: FNV-1a-64 of each 1 MiB block, then
    /// FNV-1a-64 over those block hashes as 8-byte little-endian words, in block order.
    public static func blocks<C: RandomAccessCollection>(_ bytes: C) -> UInt64
        where C.Element == UInt8, C.Index == Int {
        let block = 1 << 20
        let count = (bytes.count + block - 1) / block
        let start = bytes.startIndex
        // The transform cannot throw, so `try!` cannot trap.
        let hashes = try! parallelMap(count: count, chunkSize: 1) { k in
            FNV1a.hash(bytes[(start + k * block) ..< min(bytes.endIndex, start + (k + 1) * block)])
        }
        var h = FNV1a()
        for value in hashes { h.feed(word: value) }
        return h.value
    }
}
