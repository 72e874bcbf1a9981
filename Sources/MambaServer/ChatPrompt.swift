/// Chat messages as one prompt. The models this engine runs are base models whose tokenizer.json carries no
/// chat template (and a Jinja template would need a Jinja engine), so the conversation is written as plain
/// text, one turn per paragraph, ending with the assistant's cue:
///     <system content>\n\nUser: <content>\n\nAssistant: <content>\n\nUser: <content>\n\nAssistant:
/// and generation stops before the model writes the next "\n\nUser:" turn itself.
enum ChatPrompt {
    static let stop = "\n\nUser:"

    static func text(_ messages: [ChatCompletionRequest.Message]) throws(APIError) -> String {
        guard !messages.isEmpty else { throw APIError.invalid("messages: at least one message is needed", param: "messages") }
        var turns: [String] = []
        for (i, message) in messages.enumerated() {
            switch message.role {
            case "system", "developer": turns.append(message.content)
            case "user": turns.append("User: " + message.content)
            // An answer sent back as it was generated (after "Assistant:", usually with its own leading space) is
            // written back exactly, so the next turn's tokens extend the cached state of the previous answer.
            case "assistant": turns.append("Assistant:" + (message.content.first?.isWhitespace == true ? "" : " ") + message.content)
            default:
                throw APIError.invalid("messages[\(i)].role: \(message.role) is not system, developer, user or assistant",
                                       param: "messages")
            }
        }
        return turns.joined(separator: "\n\n") + "\n\nAssistant:"
    }
}
