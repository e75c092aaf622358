import Experiments
import Testing

@Suite("Spec loading")
struct SpecTests {
    @Test func defaultsFileValuesAndOverridesLayerInOrder() throws {
        let p = try plan("""
            experiment: descent
            lr: 0.5
            target:
              center: -1
            """, overrides: ["steps=7", "target.scale=2.5", "tags=[a, b]", "note=\"007\""])
        #expect(p.spec.points.count == 1)
        #expect(p.spec.points[0].id == "default")
        let config = p.spec.config
        #expect(config.value(at: ["lr"]) == .double(0.5))
        #expect(config.value(at: ["steps"]) == .int(7))
        #expect(config.value(at: ["seed"]) == .int(0))  // the schema default
        #expect(config.value(at: ["target", "center"]) == .double(-1))
        #expect(config.value(at: ["target", "scale"]) == .double(2.5))
        #expect(config.value(at: ["tags"]) == .list([.string("a"), .string("b")]))
        #expect(config.value(at: ["note"]) == .string("007"))  // quoted: text, not a number
        #expect(p.spec.name == "descent")
    }

    @Test func unknownKeyNamesFileLineAndSuggests() {
        let error = specError { _ = try plan("experiment: descent\nsteps: 2\nlrr: 0.1\n", path: "exp/a.yaml") }
        #expect(error?.origin == .file(path: "exp/a.yaml", line: 3, column: 1))
        #expect(error?.key == "lrr")
        #expect(error?.message == "unknown key")
        #expect(error?.hint.hasPrefix("did you mean `lr`?") == true)
        #expect(error?.description.hasPrefix("exp/a.yaml:3:1: key `lrr`: unknown key (did you mean `lr`?") == true)
    }

    @Test func unknownNestedKeySuggestsSibling() {
        let error = specError { _ = try plan("experiment: descent\ntarget:\n  center: 1\n  sacle: 2\n") }
        #expect(error?.origin == .file(path: "spec.yaml", line: 4, column: 3))
        #expect(error?.key == "target.sacle")
        #expect(error?.hint.contains("did you mean `target.scale`?") == true)
        #expect(error?.hint.contains("known keys here: center, scale") == true)
    }

    @Test func farMissHasNoSuggestionButListsKeys() {
        let error = specError { _ = try plan("experiment: descent\nbatch_size: 3\n") }
        #expect(error?.key == "batch_size")
        #expect(error?.hint.contains("did you mean") == false)
        #expect(error?.hint.contains("known keys here: lr, steps, seed, optimizer, target, tags, note") == true)
    }

    @Test func wrongTypeNamesLineKeyAndExpectedType() {
        let error = specError { _ = try plan("experiment: descent\n\nsteps: 2.5\n") }
        #expect(error?.origin == .file(path: "spec.yaml", line: 3, column: 8))
        #expect(error?.key == "steps")
        #expect(error?.message == "expected a whole number, found `2.5`")

        let quoted = specError { _ = try plan("experiment: descent\nlr: \"0.1\"\n") }
        #expect(quoted?.message == "expected a number, found \"0.1\"")

        let section = specError { _ = try plan("experiment: descent\ntarget: 3\n") }
        #expect(section?.key == "target")
        #expect(section?.message == "expected a mapping, found `3`")

        let list = specError { _ = try plan("experiment: descent\ntags: [1, [2]]\n") }
        #expect(list?.key == "tags.1")
        #expect(list?.message == "expected text, found a list")

        let infinite = specError { _ = try plan("experiment: descent\nlr: 1e999\n") }
        #expect(infinite?.message == "expected a finite number, found `1e999`")
    }

    @Test func badValueNamesLineAndKey() {
        let error = specError { _ = try plan("experiment: descent\nlr: -0.1\n") }
        #expect(error?.origin == .file(path: "spec.yaml", line: 2, column: 5))
        #expect(error?.key == "lr")
        #expect(error?.message == "must be positive")

        let nested = specError { _ = try plan("experiment: descent\ntarget:\n  scale: 0\n") }
        #expect(nested?.origin == .file(path: "spec.yaml", line: 3, column: 10))
        #expect(nested?.key == "target.scale")
    }

    @Test func badChoiceSuggestsNearMiss() {
        let error = specError { _ = try plan("experiment: descent\noptimizer: momentun\n") }
        #expect(error?.origin == .file(path: "spec.yaml", line: 2, column: 12))
        #expect(error?.key == "optimizer")
        #expect(error?.message == "`momentun` is not a valid value")
        #expect(error?.hint == "did you mean `momentum`? choose one of: sgd, momentum")
    }

    @Test func overridesAreTypeCheckedAndNamed() {
        let wrong = specError { _ = try plan("experiment: descent\n", overrides: ["steps=abc"]) }
        #expect(wrong?.origin == .commandLine("steps=abc"))
        #expect(wrong?.key == "steps")
        #expect(wrong?.description == "command line `steps=abc`: key `steps`: expected a whole number, found `abc` (write digits only, such as 3, within \(Int.min)...\(Int.max))")

        let unknownNested = specError { _ = try plan("experiment: descent\n", overrides: ["target.centre=2"]) }
        #expect(unknownNested?.origin == .commandLine("target.centre=2"))
        #expect(unknownNested?.key == "target.centre")
        #expect(unknownNested?.hint.hasPrefix("did you mean `target.center`?") == true)

        let intoScalar = specError { _ = try plan("experiment: descent\n", overrides: ["lr.x=2"]) }
        #expect(intoScalar?.origin == .commandLine("lr.x=2"))
        #expect(intoScalar?.message.contains("not a mapping") == true)

        let bad = specError { _ = try plan("experiment: descent\n", overrides: ["lr=-1"]) }
        #expect(bad?.origin == .commandLine("lr=-1"))
        #expect(bad?.message == "must be positive")

        #expect(specError { _ = try Override(parsing: "lr") }?.message == "an override needs `=`")
        #expect(specError { _ = try Override(parsing: "a..b=1") }?.message == "`a..b` is not a dotted key")
        #expect(specError { _ = try Override(parsing: "experiment=x") }?.key == "experiment")
    }

    @Test func yamlSyntaxAndEnvelopeErrors() {
        let syntax = specError { _ = try plan("experiment: descent\nlr: [0.1\n", path: "x.yaml") }
        if case let .file(path, line, _)? = syntax?.origin {
            #expect(path == "x.yaml")
            #expect(line == 3)
        } else {
            Issue.record("expected a file origin, got \(String(describing: syntax))")
        }
        #expect(syntax?.message.hasPrefix("YAML syntax error") == true)

        let duplicate = specError { _ = try plan("experiment: descent\nlr: 1\nlr: 2\n") }
        #expect(duplicate?.message == "key given twice in one mapping")

        let missing = specError { _ = try plan("lr: 1\n") }
        #expect(missing?.key == "experiment")
        #expect(missing?.message == "missing key")

        let notMap = specError { _ = try plan("- 1\n- 2\n") }
        #expect(notMap?.message == "a spec file must be a mapping of keys")

        let badName = specError { _ = try plan("experiment: descent\nname: ../up\n") }
        #expect(badName?.key == "name")
    }

    @Test func registryRejectsUnknownKindsListingKnownOnes() throws {
        let document = try SpecDocument.parse(yaml: "experiment: decent\n", path: "k.yaml")
        let empty = specError { _ = try ExperimentRegistry().plan(document) }
        #expect(empty?.origin == .file(path: "k.yaml", line: 1, column: 13))
        #expect(empty?.message.contains("unknown experiment kind `decent`") == true)

        var registry = ExperimentRegistry()
        registry.register(descentExperiment())
        let unknown = specError { _ = try registry.plan(document) }
        #expect(unknown?.hint == "did you mean `descent`? known kinds: descent")
        let ok = try registry.plan(SpecDocument.parse(yaml: "experiment: descent\n", path: "k.yaml"))
        #expect(ok.spec.experiment == "descent")
    }

    @Test func hashIsCanonicalAndSensitive() throws {
        let a = try plan("experiment: descent\nlr: 0.1\nsteps: 3\n")
        let b = try plan("# same spec, other spelling\nsteps: 3\nlr: 1e-1\nexperiment: descent\n")
        let c = try plan("experiment: descent\nlr: 0.1\nsteps: 4\n")
        #expect(a.spec.hash == b.spec.hash)
        #expect(a.spec.canonical.compactJSON == b.spec.canonical.compactJSON)
        #expect(a.spec.hash != c.spec.hash)
        #expect(a.spec.hash.count == 16)
        #expect(a.spec.canonical.compactJSON == """
            {"config":{"lr":0.1,"optimizer":"sgd","seed":0,"steps":3,"tags":[],"target":{"center":3.0,"scale":1.0}},\
            "experiment":"descent","name":"descent","sweep":[]}
            """)
    }

    @Test func fnv1aMatchesReferenceVectors() {
        // Reference values of FNV-1a 64 (Fowler, Noll, Vo; draft-eastlake-fnv).
        #expect(SpecHash.fnv1a64(Array("".utf8)) == 0xcbf2_9ce4_8422_2325)
        #expect(SpecHash.fnv1a64(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(SpecHash.fnv1a64(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
        #expect(SpecHash.hex(of: .string("")) .count == 16)
    }

    @Test func canonicalJSONFormatsNumbersAndStringsStably() {
        let value = CanonicalValue.map([
            "b": .list([.double(1), .double(0.1), .double(1e-7), .double(-0.0), .int(-3)]),
            "a": .string("quote \" backslash \\ newline \n tab \t bell \u{7} é"),
            "c": .map([:]), "d": .null, "e": .bool(true),
        ])
        #expect(value.compactJSON == #"{"a":"quote \" backslash \\ newline \n tab \t bell \u0007 é","b":[1.0,0.1,1e-07,0.0,-3],"c":{},"d":null,"e":true}"#)
        #expect(value.prettyJSON.hasPrefix("{\n  \"a\": "))
    }
}

@Suite("Schema reference")
struct SchemaReferenceTests {
    @Test func listsEveryKeyWithDefaultAndReason() {
        let reference = SchemaReference(DescentConfig.self)
        #expect(reference.keys.map(\.key) == ["lr", "note", "optimizer", "seed", "steps", "tags", "target.center", "target.scale"])
        #expect(reference.undocumented.isEmpty)
        #expect(reference.keys.first { $0.key == "note" }?.defaultValue == "null")
        #expect(reference.keys.first { $0.key == "target.center" }?.defaultValue == "3.0")
        #expect(reference.markdown.contains("| `optimizer` | `\"sgd\"` | sgd is the plain baseline; momentum is the variant |"))
    }

    struct Undocumented: ExperimentConfig {
        var a = 1
        var b = Target()
        static let keyReasons = ["a": "documented"]
    }

    @Test func reportsKeysWithoutReason() {
        #expect(SchemaReference(Undocumented.self).undocumented == ["b.center", "b.scale"])
    }

    @Test func anOverrideAndASweepOfOneKeyClash() {
        let error = specError { _ = try plan("experiment: descent\n", overrides: ["seed=1"], sweeps: ["seed=2,3"]) }
        #expect(error?.origin == .commandLine("seed=1"))
    }
}

@Suite("Spec details")
struct SpecDetailTests {
    @Test func anchorsAndAliasesResolve() throws {
        let p = try plan("experiment: descent\nsteps: &n 4\ntarget:\n  center: *n\n")
        #expect(p.spec.config.value(at: ["target", "center"]) == .double(4))
        #expect(p.spec.config.value(at: ["steps"]) == .int(4))
    }

    @Test func mergeKeysAreRefused() {
        let error = specError { _ = try plan("experiment: descent\nbase: &b {lr: 1}\ntarget:\n  <<: *b\n") }
        #expect(error?.message == "YAML merge keys are not supported")
    }

    @Test func provenanceDescribesTheMachine() {
        let p = Provenance.collect(datasetChecksum: "abc", libraries: ["zstd": "1.5"])
        #expect(p.machine.cores >= 1 && p.machine.memoryBytes > 0)
        #expect(!p.swiftCompiler.isEmpty)
        #expect(p.datasetChecksum == "abc" && p.libraries == ["zstd": "1.5"])
        if let commit = p.gitCommit {
            #expect(commit.count == 40 && commit.allSatisfy(\.isHexDigit))
            #expect(p.gitDirty != nil)
        }
    }
}
