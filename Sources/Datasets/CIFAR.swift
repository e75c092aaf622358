import Foundation

/// The binary releases of CIFAR-10 and CIFAR-100 (https://www.cs.toronto.edu/~kriz/cifar.html).
///
/// Layout: a file is a sequence of fixed-size records and nothing else (no header, no
/// magic). A CIFAR-10 record is 1 label byte then 3072 pixel bytes; a CIFAR-100 record is
/// 2 label bytes (coarse, then fine) then 3072 pixel bytes. The pixels are a 3×32×32 image,
/// channel-major: 1024 red, 1024 green, 1024 blue values, rows top to bottom. Class names
/// come one per line from `batches.meta.txt` (CIFAR-10) and `fine_label_names.txt`,
/// `coarse_label_names.txt` (CIFAR-100).
public enum CIFAR {
    public static let channels = 3
    public static let side = 32
    public static let imageBytes = 3 * 32 * 32

    /// Parses CIFAR-10 records; labels must be below `classCount`.
    public static func parseCIFAR10(_ bytes: [UInt8], classCount: Int = 10, name: String,
                                    hint: String) throws -> LabelledImages {
        try parse(bytes, labelBytes: 1, classCounts: [classCount], name: name, hint: hint)
    }

    /// Parses CIFAR-100 records; `labels` are the fine labels (below `fineCount`),
    /// `coarseLabels` the coarse ones (below `coarseCount`).
    public static func parseCIFAR100(_ bytes: [UInt8], fineCount: Int = 100, coarseCount: Int = 20,
                                     name: String, hint: String) throws -> LabelledImages {
        try parse(bytes, labelBytes: 2, classCounts: [coarseCount, fineCount], name: name, hint: hint)
    }

    /// `classCounts[k]` bounds label byte k of each record.
    static func parse(_ bytes: [UInt8], labelBytes: Int, classCounts: [Int], name: String,
                      hint: String) throws -> LabelledImages {
        let recordSize = labelBytes + imageBytes
        guard !bytes.isEmpty else {
            throw DatasetError(path: name, message: "empty file; expected \(recordSize)-byte records",
                               hint: hint)
        }
        guard bytes.count % recordSize == 0 else {
            throw DatasetError(path: name, message: "truncated: \(bytes.count) bytes is \(bytes.count / recordSize) whole \(recordSize)-byte records and \(bytes.count % recordSize) bytes over",
                               hint: hint)
        }
        let count = bytes.count / recordSize
        var labels = [[Int]](repeating: [Int](repeating: 0, count: count), count: labelBytes)
        var pixels = [UInt8]()
        pixels.reserveCapacity(count * imageBytes)
        let kinds = labelBytes == 1 ? ["label"] : ["coarse label", "fine label"]
        for record in 0..<count {
            let start = record * recordSize
            for k in 0..<labelBytes {
                let label = Int(bytes[start + k])
                guard label < classCounts[k] else {
                    throw DatasetError(
                        path: name,
                        message: "record \(record) has \(kinds[k]) \(label), expected 0..<\(classCounts[k])"
                            + (labelBytes == 1 ? " (a CIFAR-100 file given as CIFAR-10?)" : ""),
                        hint: hint)
                }
                labels[k][record] = label
            }
            pixels += bytes[(start + labelBytes) ..< (start + recordSize)]
        }
        return LabelledImages(channels: channels, height: side, width: side, pixels: pixels,
                              labels: labels[labelBytes - 1],
                              coarseLabels: labelBytes == 2 ? labels[0] : nil)
    }

    /// Class names, one per line; blank lines (the files end with some) are skipped.
    /// A label is one byte, so there must be 1 to 256 names.
    public static func parseNames(_ text: String, name: String, hint: String) throws -> [String] {
        let names = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard (1...256).contains(names.count) else {
            throw DatasetError(path: name, message: "\(names.count) class names, expected 1 to 256, one per line",
                               hint: hint)
        }
        return names
    }
}
