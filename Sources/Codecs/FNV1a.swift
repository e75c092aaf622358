/// 64-bit FNV-1a (Fowler-Noll-Vo), the hash behind dataset checksums, cache
/// fingerprints (see docs/datasets.md, "Checksum") and spec hashes (docs/specs.md).
///
/// Foundation has no SHA-256 on Linux; these hashes guard against accidental change and
/// corruption, not against tampering, so a small, documented, deterministic hash is enough.
/// Offset basis 0xcbf29ce484222325, prime 0x100000001b3: for each byte `b`,
/// `h = (h ^ b) &* prime`.
public struct FNV1a: Sendable {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// The hash of everything fed so far.
    public var value: UInt64 = FNV1a.offsetBasis

    public init() {}

    /// `@inlinable` so callers in other modules get a loop specialised for their
    /// collection type (an unspecialised generic loop is ~20x slower on cache payloads).
    @inlinable
    public mutating func feed<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            var h = value
            for b in buffer { h = (h ^ UInt64(b)) &* FNV1a.prime }
            value = h
        }
        if done != nil { return }
        var h = value
        for b in bytes { h = (h ^ UInt64(b)) &* FNV1a.prime }
        value = h
    }

    /// Feeds the UTF-8 bytes of `string` followed by a 0 byte, so that concatenated
    /// strings cannot collide by shifting a boundary.
    public mutating func feed(string: String) {
        feed(string.utf8)
        feed(CollectionOfOne(UInt8(0)))
    }

    /// Feeds `word` as 8 little-endian bytes.
    public mutating func feed(word: UInt64) {
        var h = value
        for shift in stride(from: UInt64(0), to: 64, by: 8) {
            h = (h ^ ((word >> shift) & 0xff)) &* FNV1a.prime
        }
        value = h
    }

    /// One-shot hash of a byte sequence.
    @inlinable
    public static func hash<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var h = FNV1a()
        h.feed(bytes)
        return h.value
    }

    /// 16 lower-case hex digits, zero-padded.
    public static func hex(_ value: UInt64) -> String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// `fnv1a64:` followed by 16 lower-case hex digits, the form stored in dataset.json.
    public static func format(_ value: UInt64) -> String {
        let hex = String(value, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
