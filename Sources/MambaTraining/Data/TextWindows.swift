/// Pre-training on plain text: the token stream cut into contiguous windows of `maxLength` tokens, each a
/// sequence with the loss on every next token (as transformers' run_clm `group_texts` with
/// labels = input_ids). A last, shorter window is kept when it has at least 2 tokens.
public enum TextWindows {
    public static func examples(tokens: [Int], maxLength: Int) -> [TrainingExample] {
        precondition(maxLength >= 2, "TextWindows: maxLength must be at least 2")
        return stride(from: 0, to: tokens.count, by: maxLength).compactMap { start in
            let ids = Array(tokens[start..<min(start + maxLength, tokens.count)])
            guard ids.count >= 2 else { return nil }
            return TrainingExample(ids: ids, targets: MambaGradients.nextTokenTargets(ids))
        }
    }
}
