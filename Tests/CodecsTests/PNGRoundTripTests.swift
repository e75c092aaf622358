import Foundation
import Testing
@testable import Codecs

/// A gray (channels 1) or RGB (channels 3) image with every sample value present.
private func sampleImage(width: Int, height: Int, channels: Int) -> PNGImage {
    let pixels = (0..<width * height * channels).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 13) }
    return PNGImage(width: width, height: height, channels: channels, pixels: pixels)
}

@Suite("PNG encoding and errors")
struct PNGRoundTripTests {
    @Test("gray and RGB round trip through memory and files", arguments: [1, 3])
    func roundTrip(channels: Int) throws {
        let image = sampleImage(width: 29, height: 17, channels: channels)
        let color: PNGColor = channels == 1 ? .gray : .rgb
        let bytes = try PNG.encode(image)
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(try PNG.decode(bytes, as: color, name: "memory.png") == image)

        let directory = try TemporaryDirectory()
        let path = directory.file("image.png")
        try PNG.write(image, to: path)
        #expect(try directory.entries() == ["image.png"])  // no temporary file left behind
        #expect(try PNG.read(path: path, as: color) == image)
        #expect(try PNG.info(path: path) == PNGInfo(width: 29, height: 17, channels: channels, bitDepth: 8,
                                                    interlaced: false))
        // Overwriting replaces the old file.
        let second = sampleImage(width: 3, height: 2, channels: channels)
        try PNG.write(second, to: path)
        #expect(try PNG.read(path: path, as: color) == second)
    }

    @Test("gray decoded as RGB replicates the value; RGB gray pixels decode as gray")
    func crossFormat() throws {
        let gray = sampleImage(width: 16, height: 16, channels: 1)
        let asRGB = try PNG.decode(PNG.encode(gray), as: .rgb, name: "g.png")
        #expect(asRGB.channels == 3)
        #expect(asRGB.pixels == gray.pixels.flatMap { [$0, $0, $0] })
        let rgb = PNGImage(width: 16, height: 16, channels: 3, pixels: asRGB.pixels)
        #expect(try PNG.decode(PNG.encode(rgb), as: .gray, name: "c.png") == gray)
    }

    @Test("a 1x1 image round trips")
    func tinyImage() throws {
        let image = PNGImage(width: 1, height: 1, channels: 3, pixels: [1, 2, 3])
        #expect(try PNG.decode(PNG.encode(image), as: .rgb, name: "one.png") == image)
    }

    @Test("invalid images are refused with a CodecError")
    func encodeRejectsBadImages() {
        let bad = [
            PNGImage(width: 2, height: 2, channels: 4, pixels: [UInt8](repeating: 0, count: 16)),
            PNGImage(width: 2, height: 2, channels: 1, pixels: [UInt8](repeating: 0, count: 3)),
            PNGImage(width: 0, height: 2, channels: 1, pixels: []),
        ]
        for image in bad {
            #expect(throws: CodecError.self) { try PNG.encode(image) }
        }
        let directory = try? TemporaryDirectory()
        let path = (directory?.path ?? "/nonexistent") + "/missing-dir/out.png"
        #expect(throws: CodecError.self) { try PNG.write(sampleImage(width: 2, height: 2, channels: 1), to: path) }
    }

    /// Decoding `bytes` must throw a CodecError that names the file and carries libpng's message.
    private func expectDecodeError(_ bytes: [UInt8], name: String, mentioning text: String? = nil,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        for color in [PNGColor.gray, .rgb] {
            do {
                let image = try PNG.decode(bytes, as: color, name: name)
                Issue.record("decoded \(image.width)x\(image.height) from bad input", sourceLocation: sourceLocation)
            } catch let error as CodecError {
                #expect(error.path == name, sourceLocation: sourceLocation)
                #expect(error.description.hasPrefix(name + ": "), sourceLocation: sourceLocation)
                #expect(!error.hint.isEmpty, sourceLocation: sourceLocation)
                if let text {
                    #expect(error.message.contains(text), "\(error)", sourceLocation: sourceLocation)
                }
            } catch {
                Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    private static func validFile() -> [UInt8] {
        PNGFileBuilder(width: 9, height: 7, colorType: .rgb, bitDepth: 8,
                       samples: (0..<9 * 7 * 3).map { $0 % 256 }).build()
    }

    /// Offset of the first byte of the IDAT chunk's data.
    private static func idatDataOffset(_ bytes: [UInt8]) -> Int {
        let tag = Array("IDAT".utf8)
        let at = (0..<bytes.count - 4).first { Array(bytes[$0..<$0 + 4]) == tag }!
        return at + 4
    }

    @Test("a flipped byte in IDAT is an error")
    func corruptIDAT() {
        var bytes = Self.validFile()
        bytes[Self.idatDataOffset(bytes) + 5] ^= 0x40
        // zlib usually trips over the damage before the chunk's CRC is checked.
        expectDecodeError(bytes, name: "datasets/x/train/0/1.png", mentioning: "libpng: ")
    }

    @Test("a bad CRC on intact IDAT data is an error")
    func badIDATCRC() {
        var bytes = Self.validFile()
        let data = Self.idatDataOffset(bytes)
        let length = bytes[data - 8..<data - 4].reduce(0) { $0 << 8 | Int($1) }
        bytes[data + length] ^= 0x01
        expectDecodeError(bytes, name: "crc.png", mentioning: "CRC")
    }

    @Test("corrupt compressed data with a valid CRC is reported by zlib")
    func corruptDeflateStream() {
        var bytes = Self.validFile()
        let data = Self.idatDataOffset(bytes)
        let length = bytes[data - 8..<data - 4].reduce(0) { $0 << 8 | Int($1) }
        for i in data + 2..<data + length { bytes[i] ^= 0xA5 }  // keep the zlib header, wreck the rest
        let crc = PNGFileBuilder.chunk("IDAT", Array(bytes[data..<data + length])).suffix(4)
        bytes.replaceSubrange(data + length..<data + length + 4, with: crc)
        expectDecodeError(bytes, name: "corrupt.png")
    }

    @Test("a bad CRC on IHDR is an error")
    func corruptHeader() {
        var bytes = Self.validFile()
        bytes[29] ^= 0xFF  // first CRC byte of IHDR
        expectDecodeError(bytes, name: "header.png")
    }

    @Test("truncated files throw", arguments: [0.25, 0.5, 0.9])
    func truncated(fraction: Double) {
        let bytes = Self.validFile()
        expectDecodeError(Array(bytes.prefix(Int(Double(bytes.count) * fraction))), name: "cut.png")
    }

    @Test("a file cut right after IDAT (no IEND) is either decoded intact or refused")
    func missingIEND() throws {
        let bytes = Self.validFile()
        let cut = Array(bytes.dropLast(12))
        // libpng only needs IEND to finish reading; every pixel must still be right if accepted.
        if let image = try? PNG.decode(cut, as: .rgb, name: "noiend.png") {
            #expect(image == (try PNG.decode(bytes, as: .rgb, name: "full.png")))
        }
    }

    @Test("empty and non-PNG input throw")
    func notPNG() {
        expectDecodeError([], name: "empty.png", mentioning: "empty")
        expectDecodeError(Array("hello, world, this is not an image".utf8), name: "text.png")
        expectDecodeError([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 0x4A, 0x46, 0x49, 0x46, 0, 1] + [UInt8](repeating: 0, count: 40),
                          name: "photo.jpg")
        expectDecodeError(Array(Self.validFile().prefix(8)), name: "signature-only.png")
    }

    @Test("missing files and directories throw CodecError naming the path")
    func missingFile() throws {
        let directory = try TemporaryDirectory()
        let missing = directory.file("nope.png")
        #expect(throws: CodecError.self) { try PNG.read(path: missing, as: .gray) }
        do {
            _ = try PNG.info(path: missing)
            Issue.record("info of a missing file succeeded")
        } catch let error as CodecError {
            #expect(error.path == missing)
            #expect(error.description.contains("No such file"))
        }
        #expect(throws: CodecError.self) { try PNG.read(path: directory.path, as: .gray) }
    }
}
