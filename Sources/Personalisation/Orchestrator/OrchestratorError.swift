/// A bad argument to the profiler, the orchestrator, the scheduler or the inference engine
/// (heads that do not belong to the backbone, a tolerance outside [0, 1], a threshold list
/// of the wrong length, a user without validation samples). `subject` names the argument
/// or option at fault; `hint` says how to fix it.
public struct OrchestratorError: Error, CustomStringConvertible, Equatable {
    public var subject: String
    public var message: String
    public var hint: String

    public init(subject: String, message: String, hint: String) {
        self.subject = subject; self.message = message; self.hint = hint
    }

    public var description: String { "\(subject): \(message); \(hint)" }
}
