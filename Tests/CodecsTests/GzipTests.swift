import Foundation
import Testing
@testable import Codecs

@Suite("gzip")
struct GzipTests {
    @Test("round trips, including empty and incompressible data")
    func roundTrip() throws {
        for input in [Array("hello, gzip\n".utf8), [], mixedBytes(count: 200_000),
                      Array(String(repeating: "idx idx idx ", count: 50_000).utf8)] {
            let member = try Gzip.compress(input)
            #expect(Array(member.prefix(2)) == [0x1F, 0x8B])
            #expect(try Gzip.decompress(member, name: "mem.gz") == input)
            #expect(try Gzip.compress(input) == member)  // deterministic (mtime 0)
        }
    }

    @Test("multi-member files decode to the concatenation")
    func multiMember() throws {
        let a = Array("first\n".utf8), b = mixedBytes(count: 100_000), c = Array("third\n".utf8)
        let joined = try Gzip.compress(a) + Gzip.compress(b) + Gzip.compress([]) + Gzip.compress(c)
        #expect(try Gzip.decompress(joined, name: "cat.gz") == a + b + c)
    }

    @Test("truncated, corrupt, empty and non-gzip input throw CodecError naming the input")
    func badInput() throws {
        let member = try Gzip.compress(mixedBytes(count: 5000) + Array(String(repeating: "abc", count: 1000).utf8))
        for cut in [1, 10, member.count / 2, member.count - 4, member.count - 1] {
            #expect {
                try Gzip.decompress(Array(member.prefix(cut)), name: "cut.gz")
            } throws: { error in
                guard let error = error as? CodecError else { return false }
                return error.path == "cut.gz" && error.message.contains("truncated")
            }
        }
        var damaged = member
        damaged[member.count / 2] ^= 0x55
        damaged[member.count / 2 + 1] ^= 0x55
        #expect(throws: CodecError.self) { try Gzip.decompress(damaged, name: "bad.gz") }
        var badCRC = member
        badCRC[member.count - 6] ^= 0x01  // stored CRC32
        #expect {
            try Gzip.decompress(badCRC, name: "crc.gz")
        } throws: { ($0 as? CodecError)?.message.contains("corrupt") == true }
        #expect(throws: CodecError.self) { try Gzip.decompress(member + [1, 2, 3], name: "trailing.gz") }
        #expect(throws: CodecError.self) { try Gzip.decompress(Array("plain text".utf8), name: "t.gz") }
        #expect(throws: CodecError.self) { try Gzip.decompress([], name: "empty.gz") }
    }

    @Test("files decode by path, and the gzip tool's output decodes")
    func files() throws {
        let directory = try TemporaryDirectory()
        let content = Array(String(repeating: "0123456789\n", count: 10_000).utf8)
        let path = directory.file("data.gz")
        try Data(Gzip.compress(content)).write(to: URL(fileURLWithPath: path))
        #expect(try Gzip.decompress(path: path) == content)
        #expect(throws: CodecError.self) { try Gzip.decompress(path: directory.file("missing.gz")) }

        guard let tool = try runTool("gzip", ["-dc", path]) else { return }  // gzip not installed
        #expect(tool.status == 0 && tool.stdout == Data(content))
        let plain = directory.file("plain")
        try Data(content).write(to: URL(fileURLWithPath: plain))
        let encoded = try #require(try runTool("gzip", ["-9", "-c", plain]))
        #expect(try Gzip.decompress(Array(encoded.stdout), name: "tool.gz") == content)
    }
}
