/// An error in dataset input or on-disk state: a source file, a tree, a cache.
///
/// Every error names the file it is about, says what was wrong (and what was expected)
/// and how to fix it, so the command line can print it as is.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    /// The file or directory the error is about.
    public var path: String
    /// What was wrong, with what was expected where that helps.
    public var message: String
    /// How to fix it.
    public var hint: String

    public init(path: String, message: String, hint: String) {
        self.path = path
        self.message = message
        self.hint = hint
    }

    public var description: String {
        "\(path): \(message)\nhint: \(hint)"
    }
}
