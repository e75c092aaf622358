/// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/).
///
/// Layout: a 4-byte magic (two zero bytes, a type code, 0x08 for unsigned bytes, and the
/// number of dimensions), then each dimension as a big-endian UInt32, then the values in
/// row-major order. Image files have magic 0x00000803 (N, rows, columns); label files
/// 0x00000801 (N). The parsers take the file's bytes after gunzip.
public enum IDX {
    public static let imagesMagic: UInt32 = 0x0000_0803
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Parses an image file; `pixels` are N×rows×columns bytes. `name` is the file named
    /// in errors, `hint` says how to get a good copy.
    public static func parseImages(_ bytes: [UInt8], name: String,
                                   hint: String) throws -> (count: Int, rows: Int, columns: Int, pixels: [UInt8]) {
        let dims = try header(bytes, magic: imagesMagic, what: "image", name: name, hint: hint)
        let (count, rows, columns) = (dims[0], dims[1], dims[2])
        guard rows > 0, columns > 0 else {
            throw DatasetError(path: name, message: "IDX image file declares \(rows)x\(columns) images",
                               hint: hint)
        }
        let start = 16
        // The dimensions are 32-bit each: their product can overflow Int (a fuzzer found
        // this; Tests/fuzz/regressions/idx/).
        let (plane, o1) = rows.multipliedReportingOverflow(by: columns)
        let (payload, o2) = count.multipliedReportingOverflow(by: plane)
        guard !o1, !o2 else {
            throw DatasetError(path: name, message: "IDX image file declares \(count) images of \(rows)x\(columns), more bytes than any file holds; the file has \(bytes.count)",
                               hint: hint)
        }
        try expectLength(bytes, header: start, payload: payload,
                         what: "\(count) images of \(rows)x\(columns)", name: name, hint: hint)
        return (count, rows, columns, Array(bytes[start...]))
    }

    /// Parses a label file into one value per sample.
    public static func parseLabels(_ bytes: [UInt8], name: String, hint: String) throws -> [Int] {
        let dims = try header(bytes, magic: labelsMagic, what: "label", name: name, hint: hint)
        let start = 8
        try expectLength(bytes, header: start, payload: dims[0], what: "\(dims[0]) labels",
                         name: name, hint: hint)
        return bytes[start...].map { Int($0) }
    }

    /// Checks the magic and returns the dimensions.
    static func header(_ bytes: [UInt8], magic: UInt32, what: String, name: String,
                       hint: String) throws -> [Int] {
        let expected = "magic 0x\(hex(magic)) (IDX \(what) file: unsigned bytes, \(magic & 0xff) dimensions)"
        guard bytes.count >= 4 else {
            throw DatasetError(path: name, message: "truncated: \(bytes.count) bytes, too short for an IDX header; expected \(expected)",
                               hint: hint)
        }
        let found = bigEndianUInt32(bytes, at: 0)
        guard found == magic else {
            throw DatasetError(path: name, message: "not an IDX \(what) file: magic 0x\(hex(found)), expected \(expected)",
                               hint: hint)
        }
        let rank = Int(magic & 0xff)
        guard bytes.count >= 4 + 4 * rank else {
            throw DatasetError(path: name, message: "truncated: \(bytes.count) bytes, the header alone takes \(4 + 4 * rank)",
                               hint: hint)
        }
        return (0..<rank).map { Int(bigEndianUInt32(bytes, at: 4 + 4 * $0)) }
    }

    static func expectLength(_ bytes: [UInt8], header: Int, payload: Int, what: String,
                             name: String, hint: String) throws {
        let (expected, overflow) = header.addingReportingOverflow(payload)
        if overflow || bytes.count < expected {
            throw DatasetError(path: name, message: "truncated: the header declares \(what) (\(expected) bytes with the header), the file has \(bytes.count)",
                               hint: hint)
        }
        if bytes.count > expected {
            throw DatasetError(path: name, message: "\(bytes.count - expected) unexpected bytes after \(what)",
                               hint: hint)
        }
    }

    static func bigEndianUInt32(_ bytes: [UInt8], at i: Int) -> UInt32 {
        UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
