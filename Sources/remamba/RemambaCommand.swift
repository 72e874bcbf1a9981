import ArgumentParser

@main
struct RemambaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remamba",
        abstract: "Mamba / ReMamba language-model engine on the CPU.",
        subcommands: [])
}
