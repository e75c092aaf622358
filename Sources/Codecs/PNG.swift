import CPNG
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The 8-bit pixel formats PNG decoding can produce.
public enum PNGColor: Sendable {
    /// One luminance channel.
    case gray
    /// Three channels, red, green, blue.
    case rgb

    var channels: Int { self == .gray ? 1 : 3 }
    var format: UInt32 { self == .gray ? UInt32(PNG_FORMAT_GRAY) : UInt32(PNG_FORMAT_RGB) }
}

/// A decoded 8-bit image, row-major interleaved HWC: the sample of row `y`, column `x`,
/// channel `c` is `pixels[(y * width + x) * channels + c]` (channels = 1 gray or 3 RGB).
public struct PNGImage: Equatable, Sendable {
    public var width: Int, height: Int, channels: Int
    /// `width * height * channels` samples, 0...255, sRGB-encoded as PNG stores them.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}

/// What a PNG file stores, read from its header without decoding the pixels.
public struct PNGInfo: Sendable, Equatable {
    public var width: Int, height: Int
    /// 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. A palette counts as 3, or 4 with a tRNS
    /// chunk; a tRNS chunk on a gray or RGB image adds the alpha channel too (libpng's view).
    public var channels: Int
    /// Bits per sample as stored: 1, 2, 4, 8 or 16 (for a palette, bits per index).
    public var bitDepth: Int
    /// Adam7 interlacing.
    public var interlaced: Bool
}

extension PNGInfo {
    /// "gray", "gray+alpha", "RGB" or "RGBA" for a channel count of 1...4.
    public static func describe(channels: Int) -> String {
        switch channels {
        case 1: return "gray"
        case 2: return "gray+alpha"
        case 3: return "RGB"
        case 4: return "RGBA"
        default: return "\(channels) channels"
        }
    }
}

/// PNG decoding and encoding through libpng's simplified API (png_image).
///
/// Decoding converts every valid PNG (any colour type, bit depth 1-16, interlaced or
/// not) to 8-bit gray or RGB, with libpng doing the conversions:
/// - Alpha (an alpha channel or a tRNS chunk) is removed by compositing onto black, in
///   linear light through libpng's 8-bit tables: opaque pixels keep their values exactly,
///   fully transparent ones become 0, and partly transparent dark tones are coarse (a 14
///   at half alpha becomes 0, where the exact sRGB result is 7).
/// - 16-bit samples are reduced to 8 bits. Without a gAMA/sRGB chunk they are taken as
///   sRGB-encoded (PNG_IMAGE_FLAG_16BIT_sRGB), so v becomes round(v/257), as the tools
///   that write such files expect; libpng's default would read them as linear light.
/// - Colour to gray uses libpng's sRGB luminance weights in linear light; gray to RGB
///   replicates the value; 1, 2 and 4-bit gray are scaled to 0...255 (2-bit 1 -> 85).
/// - A gAMA chunk other than sRGB's is honoured: values are converted to sRGB.
/// - Adam7-interlaced 16-bit input without alpha avoids a libpng bug (see
///   `decodeAdam7SixteenBit`): values come out as above, except that colour to gray of an
///   sRGB-encoded file is computed on the stored values rather than in linear light.
///
/// Errors come back through png_image.message (libpng's setjmp/longjmp stays inside
/// libpng) and are thrown as `CodecError` naming the file. Encoding writes 8-bit gray or
/// RGB with an sRGB chunk, not interlaced.
public enum PNG {
    /// Largest decoded buffer accepted, so a forged header cannot demand terabytes.
    static let maxDecodedBytes = 1 << 30

    /// Decodes a whole PNG file held in memory; `name` (usually its path) labels errors.
    public static func decode(_ bytes: [UInt8], as color: PNGColor, name: String) throws -> PNGImage {
        guard !bytes.isEmpty else {
            throw CodecError(path: name, message: "empty file, not a PNG", hint: "re-create or re-download the image")
        }
        // begin_read validates the signature and IHDR, so afterwards byte 24 is IHDR's bit
        // depth and byte 28 its interlace method.
        let adam7SixteenBit = bytes.count > 28 && bytes[24] == 16 && bytes[28] != 0
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        return try bytes.withUnsafeBytes { raw in
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                throw decodeError(name, image)
            }
            let hasAlpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
            if adam7SixteenBit && !hasAlpha {
                png_image_free(&image)
                return try decodeAdam7SixteenBit(bytes, as: color, name: name)
            }
            // Only valid after begin_read, which initialises `flags`.
            image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
            image.format = color.format
            let width = Int(image.width), height = Int(image.height)
            let count = try decodedCount(width: width, height: height, channels: color.channels, name: name)
            // Zero-filled: with no background colour libpng composites alpha onto the
            // buffer's contents, that is onto black.
            var pixels = [UInt8](repeating: 0, count: count)
            let finished = pixels.withUnsafeMutableBytes { out in
                png_image_finish_read(&image, nil, out.baseAddress, Int32(width * color.channels), nil)
            }
            guard finished != 0 else { throw decodeError(name, image) }
            return PNGImage(width: width, height: height, channels: color.channels, pixels: pixels)
        }
    }

    /// Adam7-interlaced 16-bit images without alpha. Debian's libpng 1.6.39-2+deb12u6 scales
    /// these to 8 bits from a stale row buffer (pnggroup/libpng#853; images with alpha take
    /// an unaffected compositing path). Its 16-bit linear output path is sound, so these are
    /// read at 16 bits and reduced here:
    /// - sRGB-encoded files (no gamma chunk, an sRGB chunk, or gAMA 1/2.2) lose their gamma
    ///   and colour-space chunks, so libpng passes the samples through unchanged, and v
    ///   becomes round(v/257), as on the main path; colour to gray is then computed on the
    ///   stored values rather than in linear light.
    /// - Other gammas are converted by libpng to linear light and encoded here as libpng's
    ///   main path would.
    static func decodeAdam7SixteenBit(_ bytes: [UInt8], as color: PNGColor, name: String) throws -> PNGImage {
        let chunks = headerChunks(bytes)
        let gamma = chunks.first { $0.type == "gAMA" && $0.data.count == 4 }
            .map { $0.data.reduce(0) { $0 << 8 | Int($1) } }
        // libpng's own test for "same gamma": within 5% (PNG_GAMMA_THRESHOLD).
        let sRGBEncoded = chunks.contains { $0.type == "sRGB" } || gamma.map { abs($0 - 45455) < 2273 } ?? true
        let input = sRGBEncoded ? withoutColorSpaceChunks(bytes) : bytes
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        return try input.withUnsafeBytes { raw in
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                throw decodeError(name, image)
            }
            image.format = color.format | UInt32(PNG_FORMAT_FLAG_LINEAR)
            let width = Int(image.width), height = Int(image.height)
            let count = try decodedCount(width: width, height: height, channels: color.channels, name: name)
            var wide = [UInt16](repeating: 0, count: count)
            let finished = wide.withUnsafeMutableBytes { out in
                png_image_finish_read(&image, nil, out.baseAddress, Int32(width * color.channels), nil)
            }
            guard finished != 0 else { throw decodeError(name, image) }
            let pixels: [UInt8]
            if sRGBEncoded {
                pixels = wide.map { UInt8((UInt32($0) * 255 + 32767) / 65535) }
            } else {
                let encode = encodedFromLinear16
                pixels = wide.map { encode[Int($0)] }
            }
            return PNGImage(width: width, height: height, channels: color.channels, pixels: pixels)
        }
    }

    /// 8-bit encoding of every 16-bit linear value as libpng's main path does it: with its
    /// sRGB approximation, the power 1/2.2 (PNG_DEFAULT_sRGB = 0.45455), rounded.
    static let encodedFromLinear16: [UInt8] = (0...65535).map { v in
        UInt8((255 * pow(Double(v) / 65535, 0.45455)).rounded())
    }

    /// The chunks before the first IDAT: type and data. Walks chunk headers only (libpng
    /// has validated them by the time this is called).
    static func headerChunks(_ bytes: [UInt8]) -> [(type: String, data: ArraySlice<UInt8>)] {
        var chunks: [(type: String, data: ArraySlice<UInt8>)] = []
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            if type == "IDAT" || offset + 12 + length > bytes.count { break }
            chunks.append((type, bytes[offset + 8..<offset + 8 + length]))
            offset += 12 + length
        }
        return chunks
    }

    /// The PNG with its gAMA, sRGB, iCCP and cHRM chunks removed (other chunks untouched,
    /// so their CRCs stay valid).
    static func withoutColorSpaceChunks(_ bytes: [UInt8]) -> [UInt8] {
        let dropped: Set<[UInt8]> = [Array("gAMA".utf8), Array("sRGB".utf8), Array("iCCP".utf8), Array("cHRM".utf8)]
        var out = Array(bytes.prefix(8))
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let end = min(bytes.count, offset + 12 + length)
            if !dropped.contains(Array(bytes[offset + 4..<offset + 8])) {
                out.append(contentsOf: bytes[offset..<end])
            }
            offset = end
        }
        out.append(contentsOf: bytes[offset...])
        return out
    }

    /// width * height * channels, refusing sizes a forged header could use to exhaust memory.
    static func decodedCount(width: Int, height: Int, channels: Int, name: String) throws -> Int {
        let (count, overflow) = width.multipliedReportingOverflow(by: height * channels)
        guard !overflow, count <= maxDecodedBytes else {
            throw CodecError(path: name, message: "image too large to decode (\(width)x\(height))",
                             hint: "images up to \(maxDecodedBytes >> 20) MiB decoded are supported")
        }
        return count
    }

    /// The bytes of the file at `path` (errors name it), for callers that both inspect
    /// and decode one file.
    public static func readFile(path: String) throws -> [UInt8] { try Codecs.readFile(path: path) }

    /// Reads and decodes the PNG file at `path`.
    public static func read(path: String, as color: PNGColor) throws -> PNGImage {
        try decode(readFile(path: path), as: color, name: path)
    }

    /// Header facts of the PNG at `path`. libpng validates the signature and the
    /// chunks up to the first IDAT; bit depth and interlacing come from IHDR, which the
    /// simplified API does not report.
    public static func info(path: String) throws -> PNGInfo {
        try info(readFile(path: path), name: path)
    }

    /// Header facts of a PNG held in memory; `name` labels errors.
    public static func info(_ bytes: [UInt8], name path: String) throws -> PNGInfo {
        guard !bytes.isEmpty else {
            throw CodecError(path: path, message: "empty file, not a PNG", hint: "re-create or re-download the image")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let ok = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard ok != 0 else { throw decodeError(path, image) }
        // libpng accepted the signature (8 bytes) and IHDR, which must come first:
        // length(4) "IHDR"(4) width(4) height(4) bitDepth(1) colourType(1) compression(1)
        // filter(1) interlace(1).
        let flags = image.format & (UInt32(PNG_FORMAT_FLAG_COLOR) | UInt32(PNG_FORMAT_FLAG_ALPHA))
        return PNGInfo(width: Int(image.width), height: Int(image.height), channels: Int(flags) + 1,
                       bitDepth: Int(bytes[24]), interlaced: bytes[28] != 0)
    }

    /// Encodes an 8-bit gray (channels 1) or RGB (channels 3) image as a PNG.
    public static func encode(_ image: PNGImage) throws -> [UInt8] {
        try encode(image, name: "<PNGImage \(image.width)x\(image.height)x\(image.channels)>")
    }

    /// Encodes `image` and writes it to `path` atomically (a temporary file renamed into place).
    public static func write(_ image: PNGImage, to path: String) throws {
        let bytes = try encode(image, name: path)
        let file = try AtomicOutputFile(path: path)
        try file.write(bytes)
        try file.commit()
    }

    static func encode(_ image: PNGImage, name: String) throws -> [UInt8] {
        guard image.channels == 1 || image.channels == 3 else {
            throw CodecError(path: name, message: "cannot encode \(image.channels) channels",
                             hint: "PNG encoding takes 1 (gray) or 3 (RGB) channels")
        }
        guard image.width > 0, image.height > 0, image.width <= Int(Int32.max) / 3,
              image.height <= Int(UInt32.max) else {
            throw CodecError(path: name, message: "cannot encode a \(image.width)x\(image.height) image",
                             hint: "width and height must be positive")
        }
        guard image.pixels.count == image.width * image.height * image.channels else {
            throw CodecError(path: name,
                             message: "pixel count \(image.pixels.count) != \(image.width)x\(image.height)x\(image.channels)",
                             hint: "pixels must hold width*height*channels samples")
        }
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = image.channels == 1 ? UInt32(PNG_FORMAT_GRAY) : UInt32(PNG_FORMAT_RGB)
        defer { png_image_free(&png) }
        let stride = Int32(image.width * image.channels)
        return try image.pixels.withUnsafeBytes { pixels in
            // First pass measures, second writes; the two calls must see identical arguments.
            var size = 0
            guard png_image_write_to_memory(&png, nil, &size, 0, pixels.baseAddress, stride, nil) != 0 else {
                throw encodeError(name, png)
            }
            var out = [UInt8](repeating: 0, count: size)
            let ok = out.withUnsafeMutableBytes {
                png_image_write_to_memory(&png, $0.baseAddress, &size, 0, pixels.baseAddress, stride, nil)
            }
            guard ok != 0 else { throw encodeError(name, png) }
            out.removeSubrange(size...)
            return out
        }
    }

    static func message(_ image: png_image) -> String {
        var text = image.message
        return withUnsafeBytes(of: &text) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    static func decodeError(_ name: String, _ image: png_image) -> CodecError {
        CodecError(path: name, message: "not a valid PNG: libpng: \(message(image))",
                   hint: "the file is corrupt, truncated or not a PNG; re-create or re-download it")
    }

    static func encodeError(_ name: String, _ image: png_image) -> CodecError {
        CodecError(path: name, message: "PNG encoding failed: libpng: \(message(image))",
                   hint: "check the image dimensions")
    }
}
