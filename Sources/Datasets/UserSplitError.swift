/// A user split spec that is out of range, or that the dataset cannot satisfy.
///
/// `key` names the spec key at fault (`samplesPerUser`, `userClasses[3]`, ...), `message`
/// says what was asked and what was available, and `hint` how to change the spec.
public struct UserSplitError: Error, CustomStringConvertible, Equatable, Sendable {
    public var key: String
    public var message: String
    public var hint: String

    public init(key: String, message: String, hint: String) {
        self.key = key
        self.message = message
        self.hint = hint
    }

    public var description: String {
        "user split key \(key): \(message)\nhint: \(hint)"
    }
}
