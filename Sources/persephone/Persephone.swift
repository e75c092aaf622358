import ArgumentParser

@main
struct Persephone: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "persephone",
        abstract: "Reproduce PersEPhonEE (early-exit CNN personalisation) on a CPU.",
        subcommands: [
            DatasetsCommand.self,
            ImageCommand.self,
            UsersCommand.self,
            PretrainCommand.self,
            ExitsCommand.self,
            EvaluateCommand.self,
            PersonaliseCommand.self,
            RunCommand.self,
            ReproduceCommand.self,
            MergeCommand.self,
            SubmitCommand.self,
            TableCommand.self,
            ReportCommand.self,
            BenchCommand.self,
        ])
}
