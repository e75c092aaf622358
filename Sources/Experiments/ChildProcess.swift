import Foundation

/// A program's exit status and what it printed.
public struct ProgramOutput: Sendable, Equatable {
    public var status: Int32
    public var output: String
    public var errors: String

    public init(status: Int32, output: String, errors: String) {
        self.status = status
        self.output = output
        self.errors = errors
    }
}

/// Runs `program` (a path) with `arguments` and `environment` (default: this process's),
/// standard input closed, and waits for it. Standard error is read on another thread while
/// standard output is read here, so neither pipe can fill up and stall the program.
public func runProgram(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProgramOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let errorText = ErrorText()
    let reader = Thread { errorText.set(errors.fileHandleForReading.readDataToEndOfFile()) }
    reader.start()
    let printed = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProgramOutput(status: process.terminationStatus, output: String(decoding: printed, as: UTF8.self),
                         errors: errorText.wait())
}

/// Standard error's bytes, handed from the reading thread to the caller.
private final class ErrorText: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()

    func set(_ data: Data) {
        self.data = data
        done.signal()
    }

    func wait() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
