import Foundation
import Testing
@testable import Codecs

@Suite(".csv.zst tables")
struct CSVZstTests {
    static let header = ["experiment", "user", "exit", "accuracy", "note"]
    static let rows: [[String]] = [
        ["fig2", "0", "block3", "0.8125", ""],
        ["fig2", "1", "final", "0.75", "has, comma"],
        ["fig3", "2", "block1", "1", "quote \" inside"],
        ["fig3", "3", "block2", "0.5", "two\nlines"],
        ["fig3", "4", "block2", "0.5", "crlf\r\nend"],
        ["unicode", "5", "ünïcødé", "0.1", " spaced "],
    ]

    @Test("rows read back exactly, and zstdcat shows RFC 4180 text")
    func roundTrip() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("table.csv.zst")
        let writer = try CSVZstWriter(path: path, header: Self.header)
        for row in Self.rows { try writer.append(row) }
        #expect(!FileManager.default.fileExists(atPath: path))
        try writer.close()
        #expect(try directory.entries() == ["table.csv.zst"])

        let table = try readCSVZst(path: path)
        #expect(table.header == Self.header)
        #expect(table.rows == Self.rows)

        let expectedText = """
            experiment,user,exit,accuracy,note
            fig2,0,block3,0.8125,
            fig2,1,final,0.75,"has, comma"
            fig3,2,block1,1,"quote "" inside"
            fig3,3,block2,0.5,"two
            lines"
            fig3,4,block2,0.5,"crlf\r
            end"
            unicode,5,ünïcødé,0.1, spaced \n
            """
        #expect(String(decoding: try ZstdFileReader(path: path).readAll(), as: UTF8.self) == expectedText)
        if let tool = try runTool("zstdcat", [path]) {
            #expect(tool.status == 0)
            #expect(String(decoding: tool.stdout, as: UTF8.self) == expectedText)
        }
    }

    @Test("a one-column table keeps empty fields distinct from blank lines")
    func singleColumn() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("one.csv.zst")
        let writer = try CSVZstWriter(path: path, header: ["value"])
        for value in ["a", "", "b"] { try writer.append([value]) }
        try writer.close()
        #expect(try readCSVZst(path: path).rows == [["a"], [""], ["b"]])
    }

    @Test("many rows stream through and read back")
    func manyRows() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("many.csv.zst")
        let writer = try CSVZstWriter(path: path, header: ["i", "square"])
        for i in 0..<30_000 { try writer.append(["\(i)", "\(i * i)"]) }
        try writer.close()
        let table = try readCSVZst(path: path)
        #expect(table.rows.count == 30_000)
        #expect(table.rows[29_999] == ["29999", "899940001"])
    }

    @Test("an unclosed table leaves no file")
    func unclosed() throws {
        let directory = try TemporaryDirectory()
        do {
            let writer = try CSVZstWriter(path: directory.file("t.csv.zst"), header: ["a"])
            try writer.append(["1"])
        }
        #expect(try directory.entries() == [])
    }

    /// Writes `text` as a .csv.zst file and returns its path.
    private func table(_ text: String, in directory: TemporaryDirectory) throws -> String {
        let path = directory.file("in.csv.zst")
        let writer = try ZstdFileWriter(path: path)
        try writer.write(text)
        try writer.close()
        return path
    }

    @Test("CRLF line ends and a missing final newline are accepted")
    func lenientLineEnds() throws {
        let directory = try TemporaryDirectory()
        let path = try table("a,b\r\n1,2\r\n3,\"x\r\ny\"", in: directory)
        let parsed = try readCSVZst(path: path)
        #expect(parsed.header == ["a", "b"])
        #expect(parsed.rows == [["1", "2"], ["3", "x\r\ny"]])
    }

    @Test("malformed tables throw with the line number", arguments: [
        ("a,b\n1,2\n3\n", ":3"), ("a,b\n1,\"open\n", ":2"), ("a,b\n1,x\"y\n", ":2"),
        ("a,b\n\"q\"z,1\n", ":2"), ("", ""),
    ])
    func malformed(text: String, location: String) throws {
        let directory = try TemporaryDirectory()
        let path = try table(text, in: directory)
        do {
            _ = try readCSVZst(path: path)
            Issue.record("malformed table accepted")
        } catch let error as CodecError {
            #expect(error.path == path + location, "\(error)")
        }
    }
}
