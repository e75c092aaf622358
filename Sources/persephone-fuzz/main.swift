import Foundation
import FuzzTargets
#if canImport(Glibc)
import Glibc
#endif

// persephone-fuzz: the project's fuzzer driver (docs/fuzzing.md).
//
// Built normally it is a seeded-mutation fuzzer:
//   persephone-fuzz TARGET --corpus DIR [--seconds N | --runs N] [--seed S] [--timeout S]
//   persephone-fuzz TARGET --replay DIR...      run every file of the directories once
// Built by `make fuzz` (swiftc -sanitize=fuzzer, -DLIBFUZZER) it is a libFuzzer binary:
//   PERSEPHONE_FUZZ_TARGET=TARGET persephone-fuzz [libFuzzer flags] CORPUS_DIR...
// A crash writes the input to crash-TARGET-<pid>.bin (in the current directory) and dies
// by the same signal; an input running longer than --timeout is written to
// hang-TARGET-<pid>.bin and the process exits with status 3.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("persephone-fuzz: \(message)\n".utf8))
    exit(2)
}

#if LIBFUZZER
@_silgen_name("LLVMFuzzerRunDriver")
func runLibFuzzer(_ argc: UnsafeMutablePointer<CInt>,
                  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

let targetName = ProcessInfo.processInfo.environment["PERSEPHONE_FUZZ_TARGET"] ?? ""
guard let libFuzzerTarget = FuzzTargets.target(named: targetName) else {
    fail("set PERSEPHONE_FUZZ_TARGET to one of \(FuzzTargets.names.joined(separator: ", "))")
}
nonisolated(unsafe) let selected = libFuzzerTarget

/// libFuzzer's entry point for one input (its runtime requires the symbol; the driver
/// below passes it explicitly, since SwiftPM points `main` at this file's top-level code).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selected(size == 0 ? [] : Array(UnsafeBufferPointer(start: data!, count: size)))
    return 0
}

var argc = CommandLine.argc
var argv = Optional(CommandLine.unsafeArgv)
exit(runLibFuzzer(&argc, &argv) { data, size in fuzzOneInput(data, size) })
#else

// MARK: - the input in flight, kept where a signal handler or the watchdog can write it

let capacity = 1 << 20
nonisolated(unsafe) let current = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
nonisolated(unsafe) var currentCount = 0
nonisolated(unsafe) var crashPath: [CChar] = []
nonisolated(unsafe) var execStarted = 0.0  // seconds since the reference date; 0 between runs

@Sendable func saveCurrent(to path: UnsafePointer<CChar>) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if fd >= 0 {
        _ = write(fd, current, currentCount)
        close(fd)
    }
}

func installCrashHandlers(target: String) {
    crashPath = Array("crash-\(target)-\(getpid()).bin".utf8CString)
    for sig in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
        signal(sig) { sig in
            crashPath.withUnsafeBufferPointer { saveCurrent(to: $0.baseAddress!) }
            let note: StaticString = "persephone-fuzz: CRASH; the input is in crash-TARGET-PID.bin\n"
            _ = write(2, note.utf8Start, note.utf8CodeUnitCount)
            signal(sig, SIG_DFL)
            raise(sig)
        }
    }
}

func startWatchdog(target: String, timeout: Double) {
    let thread = Thread {
        while true {
            Thread.sleep(forTimeInterval: 0.05)
            let started = execStarted
            if started > 0 && Date().timeIntervalSinceReferenceDate - started > timeout {
                let path = "hang-\(target)-\(getpid()).bin"
                path.withCString { saveCurrent(to: $0) }
                FileHandle.standardError.write(Data("persephone-fuzz: HANG: one input ran over \(timeout) s; written to \(path)\n".utf8))
                exit(3)
            }
        }
    }
    thread.start()
}

/// Runs `target` on `input`, timing it; returns seconds taken.
func run(_ target: ([UInt8]) -> Void, _ input: [UInt8]) -> Double {
    currentCount = min(input.count, capacity)
    input.withUnsafeBufferPointer { current.update(from: $0.baseAddress!, count: currentCount) }
    let start = Date().timeIntervalSinceReferenceDate
    execStarted = start
    target(input)
    execStarted = 0
    return Date().timeIntervalSinceReferenceDate - start
}

// MARK: - mutations

/// SplitMix64: a small seeded generator (no dependency on the engine's).
struct Mix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
}

/// Values that sit on boundaries: sizes, signs, lengths.
let interesting: [[UInt8]] = [[0], [1], [0x7f], [0x80], [0xff], [0, 0], [0xff, 0xff], [0x7f, 0xff, 0xff, 0xff],
                              [0x80, 0, 0, 0], [0xff, 0xff, 0xff, 0xff], [0, 0, 0, 0], [0, 0, 1, 0], [0x10, 0, 0, 0]]
/// Text fragments for the text formats (YAML, CSV, JSON headers).
let tokens: [[UInt8]] = ["&a", "*a", "[", "]", "{", "}", ":", "- ", "\n", "\"", "'", ",", "#", "<<: ", "!!str ",
                         "\"dtype\"", "\"shape\"", "\"data_offsets\"", "1e309", "-1", "99999999999999999999"]
    .map { Array($0.utf8) }

func mutate(_ input: [UInt8], corpus: [[UInt8]], rng: inout Mix, maxLength: Int) -> [UInt8] {
    var bytes = input
    for _ in 0..<(1 + rng.below(8)) {
        switch rng.below(9) {
        case 0 where !bytes.isEmpty:  // flip a bit
            bytes[rng.below(bytes.count)] ^= UInt8(1 << rng.below(8))
        case 1 where !bytes.isEmpty:  // random byte
            bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next())
        case 2:  // insert random bytes
            let at = rng.below(bytes.count + 1)
            bytes.insert(contentsOf: (0..<(1 + rng.below(8))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
        case 3 where !bytes.isEmpty:  // delete a run
            let at = rng.below(bytes.count)
            bytes.removeSubrange(at..<min(bytes.count, at + 1 + rng.below(16)))
        case 4 where !bytes.isEmpty:  // overwrite with a boundary value
            let value = interesting[rng.below(interesting.count)]
            let at = rng.below(bytes.count)
            for (k, v) in value.enumerated() where at + k < bytes.count { bytes[at + k] = v }
        case 5:  // insert a token
            bytes.insert(contentsOf: tokens[rng.below(tokens.count)], at: rng.below(bytes.count + 1))
        case 6 where !bytes.isEmpty:  // duplicate a chunk
            let at = rng.below(bytes.count)
            let chunk = Array(bytes[at..<min(bytes.count, at + 1 + rng.below(64))])
            bytes.insert(contentsOf: chunk, at: rng.below(bytes.count + 1))
        case 7 where corpus.count > 1:  // splice with another input
            let other = corpus[rng.below(corpus.count)]
            let cut = rng.below(bytes.count + 1), from = rng.below(other.count + 1)
            bytes = Array(bytes[..<cut]) + Array(other[from...])
        case 8 where !bytes.isEmpty:  // add or subtract a small number from a byte
            let at = rng.below(bytes.count)
            bytes[at] = bytes[at] &+ UInt8(truncatingIfNeeded: rng.below(33) - 16)
        default:
            break
        }
    }
    return bytes.count > maxLength ? Array(bytes.prefix(maxLength)) : bytes
}

// MARK: - command line

func files(in directory: String) -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
        fail("cannot list \(directory)")
    }
    return names.filter { !$0.hasPrefix(".") }.sorted().map { directory + "/" + $0 }
}

func number<T: LosslessStringConvertible>(_ text: String, _ flag: String) -> T {
    guard let value = T(text) else { fail("\(flag) needs a number, got \(text)") }
    return value
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, let target = FuzzTargets.target(named: name) else {
    fail("usage: persephone-fuzz TARGET --corpus DIR [--seconds N | --runs N] [--seed S] [--timeout S] | TARGET --replay DIR...\n"
         + "targets: \(FuzzTargets.names.joined(separator: ", "))")
}
arguments.removeFirst()
var corpusDirectories: [String] = [], replay: [String] = []
var seconds = 10.0, runs: Int?, seed: UInt64 = 1, timeout = 10.0, maxLength = 1 << 16
while !arguments.isEmpty {
    let flag = arguments.removeFirst()
    func value() -> String {
        guard !arguments.isEmpty else { fail("\(flag) needs a value") }
        return arguments.removeFirst()
    }
    switch flag {
    case "--corpus": corpusDirectories.append(value())
    case "--replay": replay.append(value()); while let next = arguments.first, !next.hasPrefix("--") { replay.append(arguments.removeFirst()) }
    case "--seconds": seconds = number(value(), flag)
    case "--runs": runs = number(value(), flag)
    case "--seed": seed = number(value(), flag)
    case "--timeout": timeout = number(value(), flag)
    case "--max-length": maxLength = min(capacity, number(value(), flag))
    default: fail("unknown argument \(flag)")
    }
}

installCrashHandlers(target: name)
startWatchdog(target: name, timeout: timeout)

if !replay.isEmpty {
    var count = 0, slowest = 0.0
    for path in replay.flatMap(files(in:)) {
        guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
        slowest = max(slowest, run(target, [UInt8](data)))
        count += 1
    }
    print("fuzz \(name): replayed \(count) inputs, 0 crashes, 0 hangs, slowest \(String(format: "%.1f", slowest * 1000)) ms")
    exit(0)
}

guard !corpusDirectories.isEmpty else { fail("give --corpus DIR (the seed inputs) or --replay DIR") }
let corpus = corpusDirectories.flatMap(files(in:)).compactMap { FileManager.default.contents(atPath: $0).map { [UInt8]($0) } }
guard !corpus.isEmpty else { fail("the corpus \(corpusDirectories.joined(separator: ", ")) is empty") }
var rng = Mix(state: seed)
let start = Date()
var executions = 0, slowest = 0.0
for input in corpus {  // the seeds themselves first
    slowest = max(slowest, run(target, input))
    executions += 1
}
while runs.map({ executions < $0 }) ?? (Date().timeIntervalSince(start) < seconds) {
    let input = mutate(corpus[rng.below(corpus.count)], corpus: corpus, rng: &rng, maxLength: maxLength)
    slowest = max(slowest, run(target, input))
    executions += 1
}
let elapsed = Date().timeIntervalSince(start)
print("fuzz \(name): \(executions) executions in \(String(format: "%.1f", elapsed)) s "
      + "(\(Int(Double(executions) / max(elapsed, 1e-9)))/s), seed \(seed), \(corpus.count) seed inputs, "
      + "0 crashes, 0 hangs, slowest input \(String(format: "%.1f", slowest * 1000)) ms")
try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "persephone-fuzz-\(getpid()).csv.zst")
#endif
