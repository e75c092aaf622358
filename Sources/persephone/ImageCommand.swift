import ArgumentParser
import Codecs
import Foundation

/// `persephone image info FILE...`: what libpng sees in each file.
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Inspect image files.",
        subcommands: [Info.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One line per file: path<TAB>width<TAB>height<TAB>channels, or path<TAB>error: <message>; exit status 1 if any failed.",
            discussion: "channels is the count as stored: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. Every file is decoded in full, so a truncated or corrupt image data stream is an error even when its header is intact.")

        @Argument(help: "PNG files.")
        var files: [String]

        func validate() throws {
            if files.isEmpty { throw ValidationError("give at least one file") }
        }

        func run() throws {
            var failed = false
            for file in files {
                do {
                    let info = try PNG.info(path: file)
                    // The header alone does not prove the pixels decode: read them too.
                    _ = try PNG.read(path: file, as: info.channels >= 3 ? .rgb : .gray)
                    print("\(file)\t\(info.width)\t\(info.height)\t\(info.channels)")
                } catch {
                    print("\(file)\terror: \((error as? CodecError)?.message ?? String(describing: error))")
                    failed = true
                }
            }
            if failed { throw ExitCode.failure }
        }
    }
}
