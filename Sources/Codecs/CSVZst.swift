/// A CSV table written as .csv.zst: a header row, then one row per `append`; UTF-8,
/// "\n" line ends, and RFC 4180 quoting (a field holding a comma, a double quote, CR or
/// LF is enclosed in double quotes, its quotes doubled). Readable by `zstdcat`,
/// pandas.read_csv, polars and DuckDB. Written under a temporary name and renamed into
/// place by `close()`; a table never closed leaves nothing at `path`.
public final class CSVZstWriter {
    public let path: String
    public let header: [String]
    private let writer: ZstdFileWriter
    /// Encoded rows not yet handed to the compressor (batched: one call per ~64 KiB).
    private var pending: [UInt8] = []

    public init(path: String, header: [String]) throws {
        precondition(!header.isEmpty, "a CSV table needs at least one column")
        self.path = path
        self.header = header
        writer = try ZstdFileWriter(path: path)
        pending.reserveCapacity(1 << 16)
        appendRecord(header)
    }

    /// Appends one row; it must have exactly one field per header column.
    public func append(_ row: [String]) throws {
        precondition(row.count == header.count,
                     "\(path): row has \(row.count) fields, header has \(header.count)")
        appendRecord(row)
        if pending.count >= 1 << 16 { try flush() }
    }

    /// Writes the remaining rows, finishes the zstd frame and renames the file into place.
    public func close() throws {
        try flush()
        try writer.close()
    }

    private func flush() throws {
        try writer.write(pending)
        pending.removeAll(keepingCapacity: true)
    }

    private func appendRecord(_ fields: [String]) {
        for (i, field) in fields.enumerated() {
            if i > 0 { pending.append(UInt8(ascii: ",")) }
            // A lone empty field is quoted so that its row is not a blank line.
            if fields.count == 1 && field.isEmpty || field.utf8.contains(where: CSV.needsQuotes) {
                pending.append(UInt8(ascii: "\""))
                for byte in field.utf8 {
                    if byte == UInt8(ascii: "\"") { pending.append(byte) }
                    pending.append(byte)
                }
                pending.append(UInt8(ascii: "\""))
            } else {
                pending.append(contentsOf: field.utf8)
            }
        }
        pending.append(UInt8(ascii: "\n"))
    }
}

/// Reads a .csv.zst table (as `CSVZstWriter` writes, or any RFC 4180 CSV with "\n" or
/// "\r\n" line ends). Every row must have as many fields as the header; malformed
/// quoting, ragged rows, invalid UTF-8 and an empty table throw `CodecError` with the line.
public func readCSVZst(path: String) throws -> (header: [String], rows: [[String]]) {
    let bytes = try ZstdFileReader(path: path).readAll()
    let records = try CSV.parse(bytes, name: path)
    guard let header = records.first?.fields else {
        throw CodecError(path: path, message: "empty table: no header row", hint: "re-create the table")
    }
    for record in records.dropFirst() where record.fields.count != header.count {
        throw CodecError(path: "\(path):\(record.line)",
                         message: "row has \(record.fields.count) fields, header has \(header.count)",
                         hint: "every row needs one field per header column; quote fields holding commas")
    }
    return (header, records.dropFirst().map(\.fields))
}

enum CSV {
    static func needsQuotes(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\n")
            || byte == UInt8(ascii: "\r")
    }

    /// RFC 4180 records with the (1-based, decompressed) line each starts on.
    static func parse(_ bytes: [UInt8], name: String) throws -> [(line: Int, fields: [String])] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1, recordLine = 1, quoteLine = 1
        var inQuotes = false, afterQuote = false, recordStarted = false

        func endField() throws {
            guard let text = String(validating: field, as: UTF8.self) else {
                throw CodecError(path: "\(name):\(line)", message: "invalid UTF-8 in a field",
                                 hint: "tables are UTF-8 text; re-create the table")
            }
            fields.append(text)
            field.removeAll(keepingCapacity: true)
            afterQuote = false
        }
        func endRecord() throws {
            try endField()
            records.append((recordLine, fields))
            fields.removeAll()
            recordStarted = false
        }
        func malformed(_ what: String) -> CodecError {
            CodecError(path: "\(name):\(line)", message: "malformed CSV: \(what)",
                       hint: "fields holding quotes, commas or line breaks must be quoted, quotes doubled")
        }

        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if !recordStarted { recordStarted = true; recordLine = line }
            if inQuotes {
                if byte == quote {
                    if i + 1 < bytes.count && bytes[i + 1] == quote {
                        field.append(quote)
                        i += 1
                    } else {
                        inQuotes = false
                        afterQuote = true
                    }
                } else {
                    if byte == lf { line += 1 }
                    field.append(byte)
                }
            } else {
                switch byte {
                case comma:
                    try endField()
                case lf, cr:
                    if byte == cr && i + 1 < bytes.count && bytes[i + 1] == lf { i += 1 }
                    try endRecord()
                    line += 1
                case quote:
                    guard field.isEmpty && !afterQuote else { throw malformed("a quote inside an unquoted field") }
                    inQuotes = true
                    quoteLine = line
                default:
                    guard !afterQuote else { throw malformed("text after a closing quote") }
                    field.append(byte)
                }
            }
            i += 1
        }
        if inQuotes {
            line = quoteLine
            throw malformed("a quoted field opened here is never closed")
        }
        if recordStarted { try endRecord() }  // last line without "\n"
        return records
    }
}
