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
