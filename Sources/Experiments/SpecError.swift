import Yams

/// A spec that cannot be used: where (file:line:column or the command-line text), which
/// dotted key, what is wrong and how to fix it. `description` reads
/// "<origin>: key `<key>`: <message> (<hint>)".
public struct SpecError: Error, CustomStringConvertible, Equatable {
    public var origin: SpecOrigin
    /// The dotted key (`train.lr`, list elements by index: `users.0.name`); empty for
    /// errors about the document itself.
    public var key: String
    public var message: String
    public var hint: String

    public init(origin: SpecOrigin, key: String, message: String, hint: String) {
        self.origin = origin
        self.key = key
        self.message = message
        self.hint = hint
    }

    public var description: String {
        let keyPart = key.isEmpty ? "" : "key `\(key)`: "
        return "\(origin): \(keyPart)\(message) (\(hint))"
    }

    init(yamlError error: YamlError, file: String) {
        func at(_ mark: Mark, _ problem: String) -> SpecError {
            SpecError(origin: .file(path: file, line: mark.line, column: mark.column), key: "",
                      message: "YAML syntax error: \(problem)",
                      hint: "fix the YAML at that place (indent with spaces, `key: value`, lists as `[a, b]`)")
        }
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            self = at(mark, problem)
        case let .duplicatedKeysInMapping(duplicates, context):
            self = SpecError(origin: .file(path: file, line: context.mark.line, column: context.mark.column),
                             key: duplicates.joined(separator: ", "),
                             message: "key given twice in one mapping",
                             hint: "keep one of them")
        default:
            self = SpecError(origin: .file(path: file, line: 1, column: 1), key: "",
                             message: "cannot read YAML: \(error)", hint: "the file must be UTF-8 YAML text")
        }
    }
}

/// A value the schema's types accept but its meaning rules out (a negative learning rate,
/// an empty list of users). Thrown by `ExperimentConfig.validate()`; the loader adds the
/// place the value was written.
public struct SpecConstraintViolation: Error, Equatable {
    /// The dotted key of the offending value.
    public var key: String
    public var message: String
    public var hint: String

    public init(key: String, _ message: String, hint: String) {
        self.key = key
        self.message = message
        self.hint = hint
    }
}

/// The closest of `candidates` to `word` when it is a plausible misspelling: edit
/// distance at most max(1, count/3), ties to the first candidate in order.
func nearMiss(_ word: String, among candidates: [String]) -> String? {
    let limit = max(1, word.count / 3)
    var best: (name: String, distance: Int)?
    for candidate in candidates {
        let d = editDistance(word.lowercased(), candidate.lowercased())
        if d <= limit && d < (best?.distance ?? Int.max) { best = (candidate, d) }
    }
    return best?.name
}

/// Damerau–Levenshtein distance (optimal string alignment): insertions, deletions,
/// substitutions and swaps of neighbours cost 1.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
            }
        }
    }
    return d[a.count][b.count]
}
