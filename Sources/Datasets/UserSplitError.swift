import Foundation

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

    /// Names the user's option (`--test`, and `data.test` in an experiment spec) rather
    /// than the library's field (`testSamplesPerUser`), in the key and in the hint.
    public var description: String {
        "user split \(UserSplitError.userFacing(key)): \(UserSplitError.userFacingText(message))\nhint: \(UserSplitError.userFacingText(hint))"
    }

    /// Library field -> the option of `persephone users`/`personalise` and the key of an
    /// experiment spec's `data` section (nil: no spec key).
    static let optionNames: [(field: String, option: String, specKey: String?)] = [
        ("testSamplesPerUser", "--test", "data.test"),
        ("minSamplesPerUser", "--min-samples", nil),
        ("samplesPerUser", "--samples", "data.samples"),
        ("labelledFraction", "--labelled", "data.labelled"),
        ("validationFraction", "--validation", nil),
        ("classesPerUser", "--split classes:K", "data.split"),
        ("userClasses", "--split classes:0,1;2,3", "data.split"),
        ("alpha", "--split dirichlet:ALPHA", "data.split"),
        ("users", "--users", "data.users"),
        ("split", "--split", "data.split"),
        ("kind", "--split", "data.split"),
        ("dataset", "--dataset", "data.dataset"),
    ]

    static func userFacing(_ key: String) -> String {
        let field = String(key.prefix { $0 != "[" })
        guard let names = optionNames.first(where: { $0.field == field }) else { return "key \(key)" }
        let index = key.dropFirst(field.count)
        let user = index.isEmpty ? "" : " (user \(index.dropFirst().dropLast()))"
        return "option `\(names.option)`" + (names.specKey.map { " (`\($0)` in a spec)" } ?? "") + user
    }

    /// `text` with every library field name replaced by its option.
    static func userFacingText(_ text: String) -> String {
        var words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        for i in words.indices {
            let core = words[i].trimmingCharacters(in: .punctuationCharacters)
            if let names = optionNames.first(where: { $0.field == core && !["split", "kind", "dataset", "users", "alpha"].contains($0.field) }) {
                words[i] = words[i].replacingOccurrences(of: core, with: names.option + (names.specKey.map { " (\($0))" } ?? ""))
            }
        }
        return words.joined(separator: " ")
    }
}
