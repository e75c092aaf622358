import Codecs
import Datasets
import Experiments
import Foundation
import NN
#if canImport(Glibc)
import Glibc
#endif

/// The parsers fed untrusted bytes, as fuzz targets (docs/fuzzing.md). Each takes one input
/// and returns normally whether the parser accepted or refused it; a refusal is a thrown
/// error, which is the correct answer to bad bytes. A crash (a trap, an overflow, an
/// out-of-bounds index) or a hang is a bug.
public enum FuzzTargets {
    public static let names = ["png", "safetensors", "spec", "idx", "cifar", "csvzst"]

    /// The target named `name`, or nil.
    public static func target(named name: String) -> (([UInt8]) -> Void)? {
        switch name {
        case "png": return png
        case "safetensors": return safetensors
        case "spec": return spec
        case "idx": return idx
        case "cifar": return cifar
        case "csvzst": return csvzst
        default: return nil
        }
    }

    /// libpng through the codec: header facts, then a decode to gray and to RGB.
    static func png(_ bytes: [UInt8]) {
        _ = try? PNG.info(bytes, name: "fuzz.png")
        _ = try? PNG.decode(bytes, as: .gray, name: "fuzz.png")
        _ = try? PNG.decode(bytes, as: .rgb, name: "fuzz.png")
    }

    static func safetensors(_ bytes: [UInt8]) {
        _ = try? SafeTensors.decode(Data(bytes), file: "fuzz.safetensors")
    }

    /// A spec file's text (invalid UTF-8 repaired, as `String(contentsOfFile:)` would
    /// refuse it), and the same text as a command-line override value.
    static func spec(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = try? SpecDocument.parse(yaml: text, path: "fuzz.yaml")
        _ = try? Override(parsing: "k=" + text)
    }

    /// The first byte picks an image or a label file; the rest is the file.
    static func idx(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let file = Array(bytes.dropFirst())
        if first & 1 == 0 {
            _ = try? IDX.parseImages(file, name: "fuzz-idx3-ubyte", hint: "")
        } else {
            _ = try? IDX.parseLabels(file, name: "fuzz-idx1-ubyte", hint: "")
        }
    }

    /// The first byte picks CIFAR-10 records, CIFAR-100 records or a names file.
    static func cifar(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let file = Array(bytes.dropFirst())
        switch first % 3 {
        case 0: _ = try? CIFAR.parseCIFAR10(file, name: "fuzz.bin", hint: "")
        case 1: _ = try? CIFAR.parseCIFAR100(file, name: "fuzz.bin", hint: "")
        default: _ = try? CIFAR.parseNames(String(decoding: file, as: UTF8.self), name: "fuzz.txt", hint: "")
        }
    }

    /// The reader of result tables goes through a file (it streams zstd from disk), so
    /// the input is written to one temporary file per process and read back.
    static func csvzst(_ bytes: [UInt8]) {
        let path = csvzstPath
        // POSIX write: Foundation's file writes fsync on Linux, which made this 100x slower.
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { return }
        _ = try? readCSVZst(path: path)
    }

    static let csvzstPath = NSTemporaryDirectory() + "persephone-fuzz-\(ProcessInfo.processInfo.processIdentifier).csv.zst"
}
