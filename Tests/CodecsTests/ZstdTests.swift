import Foundation
import Testing
@testable import Codecs

/// Text lines that compress well, `count` of them.
private func textLines(_ count: Int, from start: Int = 0) -> String {
    (start..<start + count).map { "row \($0),\($0 * $0 % 9973),user-\($0 % 17)\n" }.joined()
}

/// Asserts that `body` throws a CodecError naming `path` whose message contains `text`.
private func expectCodecError(path: String, mentioning text: String,
                              sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("no error thrown", sourceLocation: sourceLocation)
    } catch let error as CodecError {
        #expect(error.path == path, sourceLocation: sourceLocation)
        #expect(error.message.contains(text), "\(error)", sourceLocation: sourceLocation)
        #expect(error.description == "\(error.path): \(error.message) (\(error.hint))", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("zstd")
struct ZstdTests {
    @Test("small, empty and incompressible data round trip in memory")
    func roundTrip() throws {
        for input in [Array("hello, zstd".utf8), [], Array(textLines(2000).utf8), mixedBytes(count: 300_000)] {
            let frame = try Zstd.compress(input)
            #expect(try Zstd.decompress(frame, name: "mem.zst") == input)
        }
        let text = Array(textLines(2000).utf8)
        #expect(try Zstd.compress(text).count < text.count / 2)
        for level in [1, 9, 19] {
            #expect(try Zstd.decompress(Zstd.compress(text, level: level), name: "level") == text)
        }
    }

    @Test("compression is deterministic")
    func deterministic() throws {
        let input = Array(textLines(20_000).utf8) + mixedBytes(count: 100_000)
        #expect(try Zstd.compress(input) == Zstd.compress(input))
        #expect(try Zstd.compress(input, level: 7) == Zstd.compress(input, level: 7))

        let directory = try TemporaryDirectory()
        for name in ["a.zst", "b.zst"] {
            let writer = try ZstdFileWriter(path: directory.file(name))
            try writer.write(input)
            try writer.close()
        }
        #expect(FileManager.default.contents(atPath: directory.file("a.zst"))
                == FileManager.default.contents(atPath: directory.file("b.zst")))
    }

    @Test("concatenated frames decode in sequence")
    func concatenatedFrames() throws {
        let a = Array("first frame\n".utf8), b = Array(textLines(100).utf8)
        #expect(try Zstd.decompress(Zstd.compress(a) + Zstd.compress([]) + Zstd.compress(b), name: "cat") == a + b)
    }

    @Test("every truncation of a frame throws 'truncated' or 'corrupt'")
    func truncatedFrame() throws {
        let frame = try Zstd.compress(Array(textLines(50).utf8))
        for cut in 1..<frame.count {
            do {
                _ = try Zstd.decompress(Array(frame.prefix(cut)), name: "cut.zst")
                Issue.record("prefix of \(cut)/\(frame.count) bytes decoded")
            } catch let error as CodecError {
                #expect(error.path == "cut.zst")
                #expect(error.message.contains("truncated") || error.message.contains("corrupt"), "\(error)")
            }
        }
        // Cut inside the data, past the header: the stream API's return value says the frame is incomplete.
        expectCodecError(path: "cut.zst", mentioning: "truncated") {
            _ = try Zstd.decompress(Array(frame.dropLast(5)), name: "cut.zst")
        }
    }

    @Test("corrupt frames throw")
    func corruptFrame() throws {
        let input = Array(textLines(5000).utf8) + mixedBytes(count: 50_000)
        let frame = try Zstd.compress(input)
        for offset in [frame.count / 3, frame.count / 2, frame.count - 6] {
            var damaged = frame
            damaged[offset] ^= 0x10
            expectCodecError(path: "bad.zst", mentioning: "corrupt") { _ = try Zstd.decompress(damaged, name: "bad.zst") }
        }
        var badMagic = frame
        badMagic[0] ^= 0xFF
        expectCodecError(path: "magic.zst", mentioning: "corrupt") { _ = try Zstd.decompress(badMagic, name: "magic.zst") }
        expectCodecError(path: "trailing.zst", mentioning: "corrupt") {
            _ = try Zstd.decompress(frame + Array("garbage".utf8), name: "trailing.zst")
        }
        expectCodecError(path: "text.zst", mentioning: "corrupt") {
            _ = try Zstd.decompress(Array("just some text, not zstd".utf8), name: "text.zst")
        }
        expectCodecError(path: "empty.zst", mentioning: "empty") { _ = try Zstd.decompress([], name: "empty.zst") }
    }

    @Test("multi-MB files stream through the writer, the reader and the file functions")
    func streamingFiles() throws {
        let directory = try TemporaryDirectory()
        let text = textLines(260_000)  // ~6 MB, plus 2 MB of noise
        let noise = mixedBytes(count: 2_000_000, salt: 7)
        let path = directory.file("big.zst")
        let writer = try ZstdFileWriter(path: path)
        for start in stride(from: 0, to: 260_000, by: 65_000) { try writer.write(textLines(65_000, from: start)) }
        try writer.write(noise)
        #expect(!FileManager.default.fileExists(atPath: path))  // not before close()
        try writer.close()
        try writer.close()  // idempotent
        let expected = Array(text.utf8) + noise
        #expect(expected.count > 7_500_000)

        let reader = try ZstdFileReader(path: path)
        var chunks = 0, decoded: [UInt8] = []
        while let chunk = try reader.read() {
            #expect(!chunk.isEmpty && chunk.count <= 1 << 17)
            decoded += chunk
            chunks += 1
        }
        #expect(try reader.read() == nil)
        #expect(chunks > 40)
        #expect(decoded == expected)
        #expect(try ZstdFileReader(path: path).readAll() == expected)

        let raw = directory.file("big.bin"), again = directory.file("again.zst"), back = directory.file("back.bin")
        try Zstd.decompressFile(at: path, to: raw)
        #expect(FileManager.default.contents(atPath: raw) == Data(expected))
        try Zstd.compressFile(at: raw, to: again, level: 1)
        try Zstd.decompressFile(at: again, to: back)
        #expect(FileManager.default.contents(atPath: back) == Data(expected))
        #expect(try directory.entries() == ["again.zst", "back.bin", "big.bin", "big.zst"])
    }

    @Test("truncated and corrupt files throw from the reader and leave no output")
    func badFiles() throws {
        let directory = try TemporaryDirectory()
        let frame = try Zstd.compress(Array(textLines(20_000).utf8))
        let cut = directory.file("cut.zst"), bad = directory.file("bad.zst"), empty = directory.file("empty.zst")
        try Data(frame.prefix(frame.count - 100)).write(to: URL(fileURLWithPath: cut))
        var damaged = frame
        damaged[frame.count / 2] ^= 0x01
        try Data(damaged).write(to: URL(fileURLWithPath: bad))
        try Data().write(to: URL(fileURLWithPath: empty))

        expectCodecError(path: cut, mentioning: "truncated") { _ = try ZstdFileReader(path: cut).readAll() }
        expectCodecError(path: bad, mentioning: "corrupt") { _ = try ZstdFileReader(path: bad).readAll() }
        expectCodecError(path: empty, mentioning: "empty") { _ = try ZstdFileReader(path: empty).readAll() }
        expectCodecError(path: cut, mentioning: "truncated") { try Zstd.decompressFile(at: cut, to: directory.file("out")) }
        expectCodecError(path: directory.file("missing.zst"), mentioning: "cannot open") {
            _ = try ZstdFileReader(path: directory.file("missing.zst"))
        }
        #expect(try directory.entries() == ["bad.zst", "cut.zst", "empty.zst"])
    }

    @Test("a writer that is never closed leaves no file")
    func unclosedWriter() throws {
        let directory = try TemporaryDirectory()
        do {
            let writer = try ZstdFileWriter(path: directory.file("never.zst"))
            try writer.write("some data\n")
            #expect(try directory.entries().count == 1)  // the temporary file
        }
        #expect(try directory.entries() == [])
        #expect(throws: CodecError.self) { try ZstdFileWriter(path: directory.file("no/such/dir.zst")) }
    }

    @Test("the zstd command line tool reads our files and we read its output")
    func zstdCLI() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("t.zst")
        let content = textLines(10_000)
        let writer = try ZstdFileWriter(path: path, level: 5)
        try writer.write(content)
        try writer.close()
        guard let decoded = try runTool("zstd", ["-dc", path]) else { return }  // zstd not installed
        #expect(decoded.status == 0)
        #expect(decoded.stdout == Data(content.utf8))

        let plain = directory.file("plain.txt")
        try Data(content.utf8).write(to: URL(fileURLWithPath: plain))
        let encoded = try #require(try runTool("zstd", ["-q", "-c", "-19", plain]))
        #expect(try Zstd.decompress(Array(encoded.stdout), name: "cli.zst") == Array(content.utf8))
    }
}
