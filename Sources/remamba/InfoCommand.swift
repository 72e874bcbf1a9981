import ArgumentParser
import Foundation
import MambaLM

/// `remamba info`: what a model directory holds and what running it costs.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a model's configuration, parameter count, dtype and memory needs.")

    @OptionGroup var modelOptions: ModelOptions

    func run() throws {
        do {
            let directory = try modelOptions.openDirectory()
            let summary = ModelSummary(directory)
            print(summary.text)
            if let adapter = try modelOptions.openAdapter() { print(adapter.summary) }
        } catch {
            throw CommandFailure(error)
        }
    }
}
