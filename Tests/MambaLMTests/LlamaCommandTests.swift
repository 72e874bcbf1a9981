import XCTest
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import MambaLM
import Tokenization
import TensorCore

/// The commands on a Llama model, end to end through the `remamba` executable: a tiny random Llama made by
/// `remamba init` (GQA, untied head, the committed SentencePiece-BPE tokenizer of 2,000 tokens, 64 positions).
/// What the commands print or write is compared with the same model run in this process (exact: same
/// code, same Float32 arithmetic, greedy decoding).
final class LlamaCommandTests: XCTestCase {
    /// A computed property: `[String: Any]` is not Sendable, so a shared static value is refused in Swift 6 mode.
    static var configuration: [String: Any] { [
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 2000, "hidden_size": 32,
        "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "tie_word_embeddings": false, "hidden_act": "silu",
        "bos_token_id": 1, "eos_token_id": 2, "rope_theta": 10000.0,
    ] }
    static let tokenizer = Fixtures.root.appendingPathComponent("tokenizers-llama/llama2.tokenizer.json")
    var scratch: URL!
    var model: String { scratch.appendingPathComponent("llama").path }

    override func setUpWithError() throws {
        scratch = try Fixtures.temporaryDirectory()
        let config = scratch.appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: Self.configuration).write(to: config)
        let made = try RemambaExecutable.run(["init", "--config", config.path, "--tokenizer", Self.tokenizer.path, "--seed", "3", "--out", model])
        XCTAssertEqual(made.status, 0, made.error)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    func loaded() throws -> (LlamaModel, Tokenizer) {
        let directory = try ModelDirectory(URL(fileURLWithPath: model))
        return (try XCTUnwrap(ModelLoader.load(directory) as? LlamaModel), try Tokenizer(url: XCTUnwrap(directory.tokenizerURL)))
    }

    func greedy(_ prompt: String, tokens: Int, stopAtEOS: Bool) throws -> String {
        let (llama, tokenizer) = try loaded()
        return try TextGeneration.generate(model: llama, tokenizer: tokenizer, prompt: prompt,
                                           parameters: GenerateParameters(maxTokens: tokens, stopAtEOS: stopAtEOS))
    }

    func testInfoLogitsAndGenerate() throws {
        let info = try RemambaExecutable.run(["info", "--model", model])
        XCTAssertEqual(info.status, 0, info.error)
        XCTAssertTrue(info.output.contains("Llama"), info.output)

        let out = scratch.appendingPathComponent("logits.safetensors").path
        let logits = try RemambaExecutable.run(["logits", "--model", model, "--ids", "1,15,300,7,1999", "--out", out])
        XCTAssertEqual(logits.status, 0, logits.error)
        let written = try SafetensorsFile(path: out).tensor("logits")
        let (llama, _) = try loaded()
        XCTAssertEqual(written.shape, [5, 2000])
        XCTAssertEqual(written.data, try llama.forward([1, 15, 300, 7, 1999]).data, "the file holds the model's logits")

        let generated = try RemambaExecutable.run(["generate", "--model", model, "--prompt", "Hello world", "--max-tokens", "6", "--ignore-eos"])
        XCTAssertEqual(generated.status, 0, generated.error)
        XCTAssertEqual(generated.output, try greedy("Hello world", tokens: 6, stopAtEOS: false) + "\n")
        XCTAssertTrue(generated.error.contains("generated: 6 tokens"), generated.error)
    }

    /// Prompts longer than the model's 64 positions are cut there (as the paper caps llama2-3b at 2k), and the
    /// run completes; two shards merged equal the single run.
    func testEvalCapsAtThePositionLimitAndShards() throws {
        let data = scratch.appendingPathComponent("passkey.jsonl")
        let lines = (0..<2).map { i in
            try! String(decoding: JSONSerialization.data(withJSONObject: [
                "input": "What is the pass key?", "context": "The pass key is 7143\(i). " + String(repeating: "Grass grows. ", count: 40),
                "answers": ["7143\(i)"], "length": 200, "dataset": "passkey", "language": "en", "_id": "p\(i)", "depth": 0.5,
            ] as [String: Any], options: [.sortedKeys]), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(to: data, atomically: true, encoding: .utf8)
        func eval(_ output: String, _ extra: [String] = []) throws -> RemambaExecutable.Result {
            try RemambaExecutable.run(["eval", "--model", model, "--task", "passkey", "--data", data.path, "--max-length", "200",
                                       "--output", scratch.appendingPathComponent(output).path, "--no-progress"] + extra)
        }
        let single = try eval("single")
        XCTAssertEqual(single.status, 0, single.error)
        let predictions = try String(contentsOf: scratch.appendingPathComponent("single/predictions-passkey.jsonl"), encoding: .utf8)
        XCTAssertEqual(predictions.split(separator: "\n").count, 2, predictions)
        var shardFiles: [String] = []
        for shard in ["0/2", "1/2"] {
            let run = try eval("shards", ["--shard", shard])
            XCTAssertEqual(run.status, 0, run.error)
            shardFiles.append(scratch.appendingPathComponent("shards/predictions-passkey.shard-\(shard.replacingOccurrences(of: "/", with: "-of-")).jsonl").path)
        }
        let merge = try RemambaExecutable.run(["eval", "merge", "--output", scratch.appendingPathComponent("merged").path] + shardFiles.reversed())
        XCTAssertEqual(merge.status, 0, merge.error)
        XCTAssertEqual(try String(contentsOf: scratch.appendingPathComponent("merged/predictions-passkey.jsonl"), encoding: .utf8), predictions)
    }

    /// `remamba serve` on the Llama model answers /v1/completions with the model's greedy continuation.
    func testServeCompletion() throws {
        let port = Int.random(in: 30000..<60000)
        let process = Process()
        process.executableURL = try XCTUnwrap(RemambaExecutable.url)
        process.arguments = ["serve", "--model", model, "--port", "\(port)", "--log-format", "none"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        let base = URL(string: "http://127.0.0.1:\(port)")!
        var healthy = false
        for _ in 0..<300 where process.isRunning && !healthy {
            healthy = (try? request(base.appendingPathComponent("health")))?.status == 200
            if !healthy { usleep(100_000) }
        }
        XCTAssertTrue(healthy, "the server did not come up on port \(port)")
        let body = try JSONSerialization.data(withJSONObject: ["prompt": "Hello world", "max_tokens": 6, "temperature": 0] as [String: Any])
        let answer = try request(base.appendingPathComponent("v1/completions"), body: body)
        XCTAssertEqual(answer.status, 200, String(decoding: answer.data, as: UTF8.self))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: answer.data) as? [String: Any])
        let choice = try XCTUnwrap((json["choices"] as? [[String: Any]])?.first)
        XCTAssertEqual(choice["text"] as? String, try greedy("Hello world", tokens: 6, stopAtEOS: true))
    }

    /// bench --compare on the tiny pair (the small pair's random 130M-parameter models take minutes to draw in
    /// a debug build): Mamba, ReMamba and Llama each run in their own process; the table and both plots are
    /// written. The code path is the one of `--compare small` and `large`; only the shapes differ.
    func testBenchCompare() throws {
        let prefix = scratch.appendingPathComponent("speed").path
        let run = try RemambaExecutable.run(["bench", "--compare", "tiny", "--inputs", "16,32", "--output-tokens", "2", "--threads", "1",
                                             "--dtype", "q8", "--out", prefix])
        XCTAssertEqual(run.status, 0, run.error)
        let table = try String(contentsOfFile: prefix + ".md", encoding: .utf8)
        for name in ["Mamba (tiny, q8)", "ReMamba (tiny, q8)", "Llama (llama-tiny, q8)"] {
            XCTAssertTrue(table.contains("| \(name) | 16 |") && table.contains("| \(name) | 32 |"), table)
        }
        for suffix in ["-speed.svg", "-memory.svg"] {
            XCTAssertTrue(try String(contentsOfFile: prefix + suffix, encoding: .utf8).hasPrefix("<svg"), suffix)
        }
    }

    /// `grad` writes the loss of the model's own logits (mean next-token cross-entropy, computed here from
    /// `LlamaModel.forward`; 1e-5: the same Float32 logits, log-softmax summed in another order) and one gradient per
    /// checkpoint tensor in its shape (their values are proven against PyTorch in LlamaGradientTests).
    func testGrad() throws {
        let ids = [1, 15, 300, 7, 1999, 42]
        let out = scratch.appendingPathComponent("grad.safetensors").path
        let run = try RemambaExecutable.run(["grad", "--model", model, "--ids", ids.map(String.init).joined(separator: ","), "--out", out])
        XCTAssertEqual(run.status, 0, run.error)
        let file = try SafetensorsFile(path: out)
        let (llama, _) = try loaded()
        let logits = try llama.forward(ids)
        var loss = 0.0
        for t in 0..<(ids.count - 1) {
            let row = logits.row(t).map(Double.init)
            let maximum = row.max()!
            loss += maximum + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - maximum) }) - row[ids[t + 1]]
        }
        loss /= Double(ids.count - 1)
        XCTAssertEqual(Double(try file.tensor("loss").data[0]), loss, accuracy: 1e-5)
        let expected = LlamaModel.expectedWeights(llama.configuration)
        XCTAssertEqual(Set(file.names), Set(expected.keys.map { "grad." + $0 } + ["loss"]))
        for (name, shape) in expected { XCTAssertEqual(file.entries["grad." + name]?.shape, shape, name) }

        let refused = try RemambaExecutable.run(["grad", "--model", model, "--ids", "1,2,3", "--out", out + ".2", "--remamba"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.error.contains("--remamba") && refused.error.contains("Llama"), refused.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".2"))
    }

    /// `train` with LoRA (the Llama default targets) writes a PEFT adapter that `--adapter` loads and that changes the
    /// logits; with --full, a model directory that loads as a Llama model. One step each on a short text.
    func testTrainLoRAAndFull() throws {
        let data = scratch.appendingPathComponent("corpus.txt")
        try String(repeating: "Hello world, the grass grows and the river flows. ", count: 8).write(to: data, atomically: true, encoding: .utf8)
        let common = ["train", "--model", model, "--data", data.path, "--steps", "1", "--accumulation", "1", "--max-length", "32", "--lr", "1e-2"]
        let adapter = scratch.appendingPathComponent("adapter").path
        let lora = try RemambaExecutable.run(common + ["--out", adapter, "--lora-rank", "2"])
        XCTAssertEqual(lora.status, 0, lora.error)
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: adapter + "/adapter_config.json"))) as? [String: Any])
        XCTAssertEqual(config["target_modules"] as? [String], ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
        XCTAssertEqual(config["r"] as? Int, 2)
        let factors = try SafetensorsFile(path: adapter + "/adapter_model.safetensors")
        XCTAssertEqual(factors.entries["base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"]?.shape, [32, 2])
        XCTAssertEqual(factors.names.count, 2 * 7 * 2)
        let ids = "1,15,300,7,1999"
        var logits: [Tensor] = []
        for extra in [[], ["--adapter", adapter]] {
            let out = scratch.appendingPathComponent("logits\(logits.count).safetensors").path
            let run = try RemambaExecutable.run(["logits", "--model", model, "--ids", ids, "--out", out] + extra)
            XCTAssertEqual(run.status, 0, run.error)
            logits.append(try SafetensorsFile(path: out).tensor("logits"))
        }
        XCTAssertGreaterThan(logits[0].maxAbsDifference(logits[1]), 1e-4, "the trained adapter changes the logits")

        let wrongTarget = try RemambaExecutable.run(common + ["--out", scratch.appendingPathComponent("wrong").path, "--lora-targets", "in_proj"])
        XCTAssertNotEqual(wrongTarget.status, 0)
        XCTAssertTrue(wrongTarget.error.contains("--lora-targets: in_proj names no Linear or Embedding module"), wrongTarget.error)

        let full = scratch.appendingPathComponent("full")
        let run = try RemambaExecutable.run(common + ["--out", full.path, "--full"])
        XCTAssertEqual(run.status, 0, run.error)
        let trained = try XCTUnwrap(ModelLoader.load(ModelDirectory(full)) as? LlamaModel)
        let (base, _) = try loaded()
        XCTAssertGreaterThan(try trained.forward([1, 15, 300]).maxAbsDifference(base.forward([1, 15, 300])), 1e-4)
    }

    func request(_ url: URL, body: Data? = nil) throws -> (status: Int, data: Data) {
        var request = URLRequest(url: url, timeoutInterval: 30)
        if let body {
            request.httpMethod = "POST"
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, Data)?
        nonisolated(unsafe) var failure: Error?
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { failure = error } else { result = ((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()) }
            done.signal()
        }.resume()
        done.wait()
        if let failure { throw failure }
        return try XCTUnwrap(result)
    }
}
