import Foundation
import MambaLM
import OutputFiles

/// Saves the trained LoRA tensors as PEFT's `save_pretrained` does: adapter_model.safetensors (the
/// trainable tensors, already under PEFT's names) and adapter_config.json, so `PeftModel.from_pretrained`
/// and `PEFTAdapter` load it.
public enum LoRAAdapterWriter {
    public static func write(_ trainable: NamedTensors, model: LoRAModel, baseModel: String?, to directory: URL) throws {
        let settings = model.settings
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try SafetensorsWriter.write(trainable.keys.sorted().map { ($0, .float32(trainable[$0]!)) }, metadata: ["format": "pt"],
                                    to: directory.appendingPathComponent(PEFTAdapter.weightsName))
        let configuration: [String: Any] = [
            "peft_type": "LORA", "task_type": NSNull(), "r": settings.rank, "lora_alpha": settings.alpha,
            "lora_dropout": settings.dropout, "target_modules": model.usedTargetModules,
            "modules_to_save": model.usedModulesToSave, "bias": "none", "fan_in_fan_out": false, "init_lora_weights": true,
            "use_rslora": false, "use_dora": false, "inference_mode": true,
            "base_model_name_or_path": baseModel.map { $0 as Any } ?? NSNull(),
        ]
        let data = try JSONSerialization.data(withJSONObject: configuration, options: [.prettyPrinted, .sortedKeys])
        try OutputFile.write(data, to: directory.appendingPathComponent(PEFTAdapter.configurationName).path)
    }
}
