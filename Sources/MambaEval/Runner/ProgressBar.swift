import Foundation

/// A one-line progress bar on stderr: done/total, the current item, seconds per item and the time left.
public struct ProgressBar {
    let total: Int
    var done: Int
    let started = Date()
    let startCount: Int
    let enabled: Bool

    public init(total: Int, alreadyDone: Int, enabled: Bool = true) {
        self.total = total; self.done = alreadyDone; self.startCount = alreadyDone; self.enabled = enabled
        draw(label: alreadyDone > 0 ? "resumed" : "")
    }

    public mutating func advance(label: String) {
        done += 1
        draw(label: label)
        if done == total, enabled { FileHandle.standardError.write("\n".data(using: .utf8)!) }
    }

    func draw(label: String) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = min(width, done * width / total)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let newlyDone = done - startCount
        let perItem = newlyDone > 0 ? Date().timeIntervalSince(started) / Double(newlyDone) : 0
        let left = perItem * Double(total - done)
        let line = String(format: "\r[%@] %d/%d %@ %.1f s/item, %@ left   ", bar, done, total,
                          String(label.prefix(28)), perItem, Self.duration(left))
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
