import CZlib

/// Test-only PNG writer that assembles files byte by byte (signature, IHDR, PLTE, tRNS,
/// IDAT, IEND, CRC32 by zlib), so decoding tests do not depend on the encoder under test.
/// Rows are filtered with all five PNG filter types in turn, and Adam7 interlacing is
/// done here, so libpng's unfiltering and de-interlacing are exercised too.
struct PNGFileBuilder {
    enum ColorType: UInt8, CaseIterable, Sendable {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6

        /// Samples per pixel as stored.
        var samples: Int { [ColorType.gray: 1, .rgb: 3, .palette: 1, .grayAlpha: 2, .rgba: 4][self]! }

        /// Bit depths the PNG specification allows for this colour type.
        var legalBitDepths: [Int] {
            switch self {
            case .gray: return [1, 2, 4, 8, 16]
            case .palette: return [1, 2, 4, 8]
            case .rgb, .grayAlpha, .rgba: return [8, 16]
            }
        }
    }

    var width: Int
    var height: Int
    var colorType: ColorType
    var bitDepth: Int
    var interlaced = false
    /// Stored samples, row-major interleaved: `samples[(y * width + x) * colorType.samples + c]`,
    /// each below 2^bitDepth (palette indices for `.palette`).
    var samples: [Int]
    /// PLTE entries (r, g, b).
    var palette: [[UInt8]] = []
    /// Raw tRNS payload, if any.
    var transparency: [UInt8]?
    /// Further chunks (type, data) placed between IHDR and PLTE, e.g. gAMA or sRGB.
    var extraChunks: [(String, [UInt8])] = []

    func build() -> [UInt8] {
        precondition(samples.count == width * height * colorType.samples)
        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var ihdr = bigEndian32(width) + bigEndian32(height)
        ihdr += [UInt8(bitDepth), colorType.rawValue, 0, 0, interlaced ? 1 : 0]
        file += PNGFileBuilder.chunk("IHDR", ihdr)
        for (type, data) in extraChunks { file += PNGFileBuilder.chunk(type, data) }
        if !palette.isEmpty { file += PNGFileBuilder.chunk("PLTE", palette.flatMap { $0 }) }
        if let transparency { file += PNGFileBuilder.chunk("tRNS", transparency) }
        file += PNGFileBuilder.chunk("IDAT", zlibCompress(filteredScanlines()))
        file += PNGFileBuilder.chunk("IEND", [])
        return file
    }

    /// One chunk: length, type, data, CRC32 of type and data.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
        return bigEndian32(data.count) + body + bigEndian32(Int(crc))
    }

    /// Adam7 passes: (x start, y start, x step, y step).
    static let adam7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]

    /// The decompressed IDAT stream: per pass (one pass when not interlaced), per row,
    /// a filter-type byte then the filtered packed row.
    private func filteredScanlines() -> [UInt8] {
        let passes = interlaced ? PNGFileBuilder.adam7 : [(0, 0, 1, 1)]
        var out: [UInt8] = []
        var rowIndex = 0
        for (x0, y0, dx, dy) in passes {
            let xs = Array(stride(from: x0, to: width, by: dx))
            let ys = Array(stride(from: y0, to: height, by: dy))
            guard !xs.isEmpty, !ys.isEmpty else { continue }  // empty passes have no rows at all
            var prior: [UInt8]?
            for y in ys {
                let raw = packRow(y: y, xs: xs)
                let filter = UInt8(rowIndex % 5)
                rowIndex += 1
                out.append(filter)
                out += PNGFileBuilder.filter(raw, prior: prior ?? [UInt8](repeating: 0, count: raw.count),
                                             type: filter, bytesPerPixel: max(1, colorType.samples * bitDepth / 8))
                prior = raw
            }
        }
        return out
    }

    /// Packs the samples of row `y` at columns `xs`: big-endian 16-bit, or sub-byte
    /// samples from the most significant bit, the row padded to a whole byte.
    private func packRow(y: Int, xs: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        var accumulator = 0, bits = 0
        for x in xs {
            for c in 0..<colorType.samples {
                let v = samples[(y * width + x) * colorType.samples + c]
                precondition(v >= 0 && v < 1 << bitDepth)
                if bitDepth == 16 {
                    bytes += [UInt8(v >> 8), UInt8(v & 0xFF)]
                } else {
                    accumulator = accumulator << bitDepth | v
                    bits += bitDepth
                    if bits == 8 { bytes.append(UInt8(accumulator)); accumulator = 0; bits = 0 }
                }
            }
        }
        if bits > 0 { bytes.append(UInt8(accumulator << (8 - bits))) }
        return bytes
    }

    /// PNG filters (specification section 9.2): each byte minus a predictor from the
    /// byte `bytesPerPixel` to the left (a), the byte above (b) and above-left (c).
    static func filter(_ raw: [UInt8], prior: [UInt8], type: UInt8, bytesPerPixel bpp: Int) -> [UInt8] {
        raw.indices.map { i in
            let a = i >= bpp ? Int(raw[i - bpp]) : 0
            let b = Int(prior[i])
            let c = i >= bpp ? Int(prior[i - bpp]) : 0
            let predictor: Int
            switch type {
            case 0: predictor = 0
            case 1: predictor = a
            case 2: predictor = b
            case 3: predictor = (a + b) / 2
            default:
                let p = a + b - c
                let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
            }
            return UInt8(truncatingIfNeeded: Int(raw[i]) - predictor)
        }
    }
}

func bigEndian32(_ v: Int) -> [UInt8] {
    [UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16),
     UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
}

/// A zlib (RFC 1950) stream of `data`, via zlib's one-shot compress2.
func zlibCompress(_ data: [UInt8]) -> [UInt8] {
    var size = compressBound(uLong(data.count))
    var out = [UInt8](repeating: 0, count: Int(size))
    let status = out.withUnsafeMutableBufferPointer { dst in
        data.withUnsafeBufferPointer { src in
            compress2(dst.baseAddress, &size, src.baseAddress, uLong(src.count), 9)
        }
    }
    precondition(status == Z_OK)
    return Array(out[0..<Int(size)])
}
