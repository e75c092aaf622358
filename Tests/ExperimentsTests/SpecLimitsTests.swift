import Experiments
import Foundation
import Testing

/// Bounded spec parsing: an alias bomb or deep nesting is a clear error naming the file
/// and line, quickly, instead of gigabytes and a SIGABRT.
@Suite("Spec limits")
struct SpecLimitsTests {
    /// `levels` anchors, each a list of nine aliases of the one before (9^levels values).
    static func bomb(levels: Int) -> String {
        var text = "experiment: descent\na0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        for l in 1...levels {
            text += "a\(l): &a\(l) [" + Array(repeating: "*a\(l - 1)", count: 9).joined(separator: ", ") + "]\n"
        }
        return text
    }

    @Test func aliasBombIsRefusedQuicklyWithFileAndLine() throws {
        let text = Self.bomb(levels: 8)
        #expect(text.utf8.count < 800)
        let start = Date()
        let error = try #require(throws: SpecError.self) { try SpecDocument.parse(yaml: text, path: "bomb.yaml") }
        let seconds = Date().timeIntervalSince(start)
        #expect(seconds < 1, "took \(seconds) s")
        #expect(error.description.hasPrefix("bomb.yaml:"))
        #expect(error.message.contains("more than \(SpecLimits.maxValues) values"))
        guard case let .file(_, line, _) = error.origin else { Issue.record("no file origin: \(error)"); return }
        #expect((2...10).contains(line))
    }

    @Test func deepNestingIsRefusedWithFileAndLine() throws {
        let depth = SpecLimits.maxDepth + 5
        let text = "experiment: descent\nv: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
        let error = try #require(throws: SpecError.self) { try SpecDocument.parse(yaml: text, path: "deep.yaml") }
        #expect(error.description.hasPrefix("deep.yaml:2:"))
        #expect(error.message.contains("nested more than \(SpecLimits.maxDepth) deep"))
        // Deeper than libyaml's own limit (1000): its error, still with file and line.
        let deeper = "experiment: descent\nv: " + String(repeating: "[", count: 5000) + "\n"
        let yamlError = try #require(throws: SpecError.self) { try SpecDocument.parse(yaml: deeper, path: "deep.yaml") }
        #expect(yamlError.description.hasPrefix("deep.yaml:2:"))
    }

    @Test func modestAliasesAndNestingStillParse() throws {
        // Nine levels deep and a few aliases: far inside both limits.
        let document = try SpecDocument.parse(yaml: Self.bomb(levels: 3) + "n: [[[[[[[[[1]]]]]]]]]\n", path: "ok.yaml")
        #expect(document.experiment == "descent")
    }

    @Test func overridesAreBoundedToo() throws {
        let depth = SpecLimits.maxDepth + 1
        #expect(throws: SpecError.self) {
            try Override(parsing: "v=" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        }
    }
}
