import ArgumentParser

@main
struct RemambaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remamba",
        abstract: "Mamba / ReMamba language-model engine on the CPU.",
        subcommands: [Generate.self, Logits.self, Info.self, Bench.self, Tokenize.self, Detokenize.self, Grad.self,
                      TrainTokenizer.self, Init.self, Train.self, Eval.self, Serve.self, Quantize.self, PerplexityCommand.self])
}
