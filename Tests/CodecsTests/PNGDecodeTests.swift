import Foundation
import Testing
@testable import Codecs

private typealias ColorType = PNGFileBuilder.ColorType

/// One decoding case: a colour type at one of its legal bit depths, plain or Adam7.
struct PNGCase: CustomTestStringConvertible, Sendable {
    var colorType: PNGFileBuilder.ColorType
    var bitDepth: Int
    var interlaced: Bool
    var testDescription: String { "\(colorType) \(bitDepth)-bit\(interlaced ? " Adam7" : "")" }

    static let all: [PNGCase] = PNGFileBuilder.ColorType.allCases.flatMap { type in
        type.legalBitDepths.flatMap { depth in
            [false, true].map { PNGCase(colorType: type, bitDepth: depth, interlaced: $0) }
        }
    }
}

// sRGB transfer curve (IEC 61966-2-1), which the simplified API uses for compositing
// and colour-to-gray conversion in linear light.
private func linear(_ v8: Double) -> Double {
    let s = v8 / 255
    return s <= 0.04045 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4)
}

private func encoded(_ l: Double) -> Double {
    255 * (l <= 0.0031308 ? 12.92 * l : 1.055 * pow(l, 1 / 2.4) - 0.055)
}

/// The expected 8-bit output of one pixel. Opaque and fully transparent pixels of a
/// matching colour family are exact. Partial alpha and colour-to-gray go through libpng's
/// linear-light arithmetic, which uses 8-bit linear tables (dark tones move by up to ~13),
/// so they get a tolerance around the exact sRGB formula, and must also stay in bounds:
/// a composited channel is at most its opaque value, a gray within the span of its
/// channels (both give or take the tolerance).
private struct Expected {
    var rgb: [Double]
    var gray: Double
    var rgbTolerance: Double
    var grayTolerance: Double
    /// Bounds that hold on every decoding path.
    var rgbUpper: [Double]
    var grayRange: ClosedRange<Double>
}

/// Builds a 13x11 test image (odd sizes: partial bytes at low bit depths, uneven Adam7
/// passes) whose samples are a fixed pattern, and the pixels libpng must produce.
private func testImage(_ c: PNGCase) -> (PNGFileBuilder, [Expected]) {
    let width = 13, height = 11
    let maxValue = (1 << c.bitDepth) - 1
    // 16-bit samples are k * 257 so their 8-bit reduction is exactly k.
    let unit = c.bitDepth == 16 ? 257 : 1
    let levels = c.bitDepth == 16 ? 256 : maxValue + 1
    var builder = PNGFileBuilder(width: width, height: height, colorType: c.colorType, bitDepth: c.bitDepth,
                                 interlaced: c.interlaced, samples: [])
    if c.colorType == .palette {
        let entries = min(levels, 200)
        builder.palette = (0..<entries).map { (i: Int) -> [UInt8] in
            let red = UInt8(i * 37 % 256), green = UInt8(255 - i), blue = UInt8(i * 91 % 256)
            return [red, green, blue]
        }
    }
    var expected: [Expected] = []
    for y in 0..<height {
        for x in 0..<width {
            let k = (x * 7 + y * 13 + x * y) % levels
            var pixel: [Int]
            var rgb: [Double]
            var alpha = 1.0
            switch c.colorType {
            case .gray:
                pixel = [k * unit]
                let g = Double(k * 255 / (levels - 1))
                rgb = [g, g, g]
            case .grayAlpha:
                let a = [0, 255, 128, 255, 64][(x + y) % 5]
                pixel = [k * unit, a * unit]
                rgb = [Double(k), Double(k), Double(k)]
                alpha = Double(a) / 255
            case .rgb:
                let (r, g, b) = (k, (k * 3 + 17) % 256, (255 - k + y) % 256)
                pixel = [r * unit, g * unit, b * unit]
                rgb = [Double(r), Double(g), Double(b)]
            case .rgba:
                let (r, g, b) = (k, (k * 3 + 17) % 256, (255 - k + y) % 256)
                let a = [255, 0, 200, 255, 30][(x + 2 * y) % 5]
                pixel = [r * unit, g * unit, b * unit, a * unit]
                rgb = [Double(r), Double(g), Double(b)]
                alpha = Double(a) / 255
            case .palette:
                let index = k % builder.palette.count
                pixel = [index]
                rgb = builder.palette[index].map(Double.init)
            }
            builder.samples += pixel
            let composited = alpha == 1 ? rgb : rgb.map { encoded(alpha * linear($0)) }
            let isGray = rgb[0] == rgb[1] && rgb[1] == rgb[2]
            // Rec. 709 / sRGB luminance weights, applied in linear light.
            let luminance = encoded(0.2126 * linear(composited[0]) + 0.7152 * linear(composited[1])
                + 0.0722 * linear(composited[2]))
            let partial = alpha > 0 && alpha < 1
            let grayLow = alpha == 1 ? composited.min()! : 0
            expected.append(Expected(rgb: composited, gray: isGray ? composited[0] : luminance,
                                     rgbTolerance: partial ? 14 : 0,
                                     grayTolerance: partial ? 14 : (isGray ? 0 : 3),
                                     rgbUpper: alpha == 0 ? [0, 0, 0] : rgb,
                                     grayRange: (grayLow - 1)...(alpha == 0 ? 0 : rgb.max()! + (partial ? 14 : 1))))
        }
    }
    return (builder, expected)
}

@Suite("PNG decoding")
struct PNGDecodeTests {
    @Test("every colour type and legal bit depth decodes to the stored values", arguments: PNGCase.all)
    func decodesEveryFormat(_ c: PNGCase) throws {
        let (builder, expected) = testImage(c)
        let bytes = builder.build()
        let name = "\(c.testDescription).png"

        let rgb = try PNG.decode(bytes, as: .rgb, name: name)
        #expect(rgb.width == 13 && rgb.height == 11 && rgb.channels == 3)
        #expect(rgb.pixels.count == 13 * 11 * 3)
        let gray = try PNG.decode(bytes, as: .gray, name: name)
        #expect(gray.width == 13 && gray.height == 11 && gray.channels == 1)
        #expect(gray.pixels.count == 13 * 11)

        // Adam7 16-bit input takes the workaround path (see PNG.decode), which composites
        // and converts to gray in the stored encoding: only the bounds apply to those pixels.
        let boundsOnly = c.interlaced && c.bitDepth == 16
        var rgbMismatches: [String] = [], grayMismatches: [String] = []
        for (i, e) in expected.enumerated() {
            for ch in 0..<3 {
                let v = Double(rgb.pixels[i * 3 + ch])
                let near = abs(v - e.rgb[ch]) <= e.rgbTolerance || (boundsOnly && e.rgbTolerance > 0)
                if !near || v > e.rgbUpper[ch] + max(1, e.rgbTolerance), rgbMismatches.count < 5 {
                    rgbMismatches.append("pixel \(i) channel \(ch): \(v) vs \(e.rgb[ch])")
                }
            }
            let v = Double(gray.pixels[i])
            let near = abs(v - e.gray) <= e.grayTolerance || (boundsOnly && e.grayTolerance > 0)
            if !near || !e.grayRange.contains(v), grayMismatches.count < 5 {
                grayMismatches.append("pixel \(i): \(v) vs \(e.gray) in \(e.grayRange)")
            }
        }
        #expect(rgbMismatches == [])
        #expect(grayMismatches == [])

        // De-interlacing must not change a single value (bar the documented colour-to-gray
        // of the Adam7 16-bit workaround).
        if c.interlaced {
            var plain = builder
            plain.interlaced = false
            #expect(try PNG.decode(plain.build(), as: .rgb, name: name) == rgb)
            let workaroundGray = c.bitDepth == 16 && c.colorType == .rgb
            if !workaroundGray { #expect(try PNG.decode(plain.build(), as: .gray, name: name) == gray) }
        }
    }

    @Test("info reports the stored format", arguments: PNGCase.all)
    func infoReportsStoredFormat(_ c: PNGCase) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("image.png")
        try Data(testImage(c).0.build()).write(to: URL(fileURLWithPath: path))
        let info = try PNG.info(path: path)
        let channels = [ColorType.gray: 1, .grayAlpha: 2, .rgb: 3, .rgba: 4, .palette: 3][c.colorType]!
        #expect(info == PNGInfo(width: 13, height: 11, channels: channels, bitDepth: c.bitDepth,
                                interlaced: c.interlaced))
    }

    @Test("16-bit samples are reduced to 8 bits as v/257")
    func sixteenBitReduction() throws {
        let values = [0, 1, 128, 129, 255, 256, 257, 1000, 32768, 40000, 65279, 65534, 65535]
        var builder = PNGFileBuilder(width: values.count, height: 1, colorType: .gray, bitDepth: 16,
                                     samples: values)
        let image = try PNG.decode(builder.build(), as: .gray, name: "sixteen.png")
        for (value, decoded) in zip(values, image.pixels) {
            #expect(abs(Double(decoded) - Double(value) / 257) <= 1, "16-bit \(value) -> \(decoded)")
        }
        #expect(image.pixels.first == 0 && image.pixels.last == 255)
        // The Adam7 workaround path must reduce exactly as libpng does without interlacing.
        builder.interlaced = true
        #expect(try PNG.decode(builder.build(), as: .gray, name: "sixteen-adam7.png") == image)
    }

    @Test("16-bit Adam7 files with sRGB or gAMA chunks decode like their plain versions",
          arguments: [("sRGB", [0]), ("gAMA", bigEndian32(45455)), ("gAMA", bigEndian32(100000))])
    func sixteenBitAdam7WithColorSpace(chunk: String, data: [UInt8]) throws {
        let samples = (0..<9 * 8 * 3).map { ($0 * 2039 + $0 / 5 * 77) % 65536 }
        var builder = PNGFileBuilder(width: 9, height: 8, colorType: .rgb, bitDepth: 16, samples: samples)
        builder.extraChunks = [(chunk, data)]
        let plain = try PNG.decode(builder.build(), as: .rgb, name: "plain.png")
        builder.interlaced = true
        let adam7 = try PNG.decode(builder.build(), as: .rgb, name: "adam7.png")
        if chunk == "sRGB" || data == bigEndian32(45455) {
            #expect(adam7 == plain)
            #expect(plain.pixels == samples.map { UInt8(($0 * 255 + 32767) / 65535) })
        } else {
            // A linear (gamma 1.0) file: gamma-encoded on both paths, by libpng's tables on
            // one and by the same power law computed in Double on the other.
            let worst = zip(adam7.pixels, plain.pixels).map { abs(Int($0) - Int($1)) }.max()!
            #expect(worst <= 2)  // libpng's 16-to-8 gamma table is coarse near black
            #expect(plain.pixels != samples.map { UInt8(($0 * 255 + 32767) / 65535) })
        }
    }

    @Test("tRNS on a palette makes transparent entries black")
    func paletteTransparency() throws {
        var builder = PNGFileBuilder(width: 4, height: 1, colorType: .palette, bitDepth: 2, samples: [0, 1, 2, 3])
        builder.palette = [[200, 10, 20], [30, 220, 40], [50, 60, 230], [255, 255, 255]]
        builder.transparency = [255, 0, 255]  // entry 3 is not listed: opaque
        let image = try PNG.decode(builder.build(), as: .rgb, name: "trns.png")
        #expect(image.pixels == [200, 10, 20, 0, 0, 0, 50, 60, 230, 255, 255, 255])
        let directory = try TemporaryDirectory()
        try Data(builder.build()).write(to: URL(fileURLWithPath: directory.file("trns.png")))
        #expect(try PNG.info(path: directory.file("trns.png")).channels == 4)
    }

    @Test("tRNS on gray and RGB makes the keyed colour black")
    func colourKeyTransparency() throws {
        var gray = PNGFileBuilder(width: 3, height: 1, colorType: .gray, bitDepth: 8, samples: [10, 99, 250])
        gray.transparency = [0, 99]
        #expect(try PNG.decode(gray.build(), as: .gray, name: "g.png").pixels == [10, 0, 250])
        var rgb = PNGFileBuilder(width: 2, height: 1, colorType: .rgb, bitDepth: 8, samples: [1, 2, 3, 4, 5, 6])
        rgb.transparency = [0, 4, 0, 5, 0, 6]
        #expect(try PNG.decode(rgb.build(), as: .rgb, name: "c.png").pixels == [1, 2, 3, 0, 0, 0])
    }

    @Test("a larger interlaced RGB image decodes exactly")
    func largeInterlaced() throws {
        let width = 67, height = 45
        let samples = (0..<width * height * 3).map { ($0 * 31 + $0 / 7) % 256 }
        for interlaced in [false, true] {
            let builder = PNGFileBuilder(width: width, height: height, colorType: .rgb, bitDepth: 8,
                                         interlaced: interlaced, samples: samples)
            #expect(try PNG.decode(builder.build(), as: .rgb, name: "big.png").pixels == samples.map(UInt8.init))
        }
    }
}
