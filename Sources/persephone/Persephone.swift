import ArgumentParser

@main
struct Persephone: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "persephone",
        abstract: "Reproduce PersEPhonEE (early-exit CNN personalisation) on a CPU.",
        subcommands: [BenchCommand.self])
}
