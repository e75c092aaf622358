import Foundation
import SourceFingerprint

// `source-fingerprint ROOT OUTPUT.swift`: writes the code fingerprint of the package at
// ROOT as a Swift constant (run by SourceFingerprintPlugin at build time).
#if LIBFUZZER
// `make fuzz` compiles every target with -sanitize=fuzzer, whose runtime needs this symbol.
@_cdecl("LLVMFuzzerTestOneInput")
func unusedFuzzTarget(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { 0 }
#endif

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: source-fingerprint PACKAGE_ROOT OUTPUT.swift\n".utf8))
    exit(2)
}
guard let fingerprint = SourceFingerprint.compute(root: arguments[1]) else {
    FileHandle.standardError.write(Data("source-fingerprint: \(arguments[1]) has no Package.swift and Sources/, or a file there is unreadable\n".utf8))
    exit(1)
}
let text = """
    // Generated at build time by source-fingerprint (Plugins/SourceFingerprintPlugin); do not edit.
    /// The code fingerprint of the sources this binary was built from (`SourceFingerprint`).
    let embeddedSourceFingerprint = "\(fingerprint)"

    """
let output = URL(fileURLWithPath: arguments[2])
// Rewrite only on change, so an unchanged fingerprint does not recompile the target.
if (try? String(contentsOf: output, encoding: .utf8)) != text {
    do {
        try Data(text.utf8).write(to: output, options: .atomic)
    } catch {
        FileHandle.standardError.write(Data("source-fingerprint: cannot write \(arguments[2]): \(error)\n".utf8))
        exit(1)
    }
}
