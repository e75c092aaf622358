import Foundation

/// A problem with a training input: a checkpoint, a resume state, arguments, a dataset.
/// `subject` is the file (or argument) at fault; `hint` says how to fix it.
public struct TrainingError: Error, CustomStringConvertible, Equatable {
    public var subject: String
    public var message: String
    public var hint: String

    public init(subject: String, message: String, hint: String) {
        self.subject = subject; self.message = message; self.hint = hint
    }

    public var description: String { "\(subject): \(message); \(hint)" }
}

extension TrainingError {
    /// Fails early, before any training, when `url`'s directory is missing or read-only.
    public static func checkWritable(_ url: URL) throws {
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue,
              FileManager.default.isWritableFile(atPath: directory) else {
            throw TrainingError(subject: url.path, message: "cannot be written: directory \(directory) is missing or read-only",
                                hint: "create the directory (mkdir -p) or choose another output path")
        }
    }
}
