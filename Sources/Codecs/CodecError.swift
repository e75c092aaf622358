/// An I/O or format error from a codec: which file (or in-memory name), what went wrong,
/// and how to fix it. `description` is "<path>: <message> (<hint>)".
public struct CodecError: Error, CustomStringConvertible, Equatable {
    /// The file path, or the caller-supplied name for in-memory input.
    public var path: String
    /// What went wrong, including the C library's own message where there is one.
    public var message: String
    /// How to fix it.
    public var hint: String

    public init(path: String, message: String, hint: String) {
        self.path = path
        self.message = message
        self.hint = hint
    }

    public var description: String { "\(path): \(message) (\(hint))" }
}
