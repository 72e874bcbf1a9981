import Plots

/// Needle depth × context length: one cell per (length, depth), coloured from red (0) to green (100).
public struct HeatMap {
    public var title: String
    public var lengths: [Int]
    public var depths: [Double]
    /// Mean score per cell, `nil` where there is no sample.
    public var value: (Int, Double) -> Double?

    public init(title: String, lengths: [Int], depths: [Double], value: @escaping (Int, Double) -> Double?) {
        self.title = title; self.lengths = lengths; self.depths = depths; self.value = value
    }

    /// Red → yellow → green, as the Needle-in-a-Haystack plots.
    static func color(_ score: Double) -> String {
        let t = min(max(score / 100, 0), 1)
        let r = t < 0.5 ? 230.0 : 230 - (t - 0.5) * 2 * 170
        let g = t < 0.5 ? 60 + t * 2 * 160 : 220 - (t - 0.5) * 2 * 40
        return String(format: "#%02x%02x%02x", Int(r), Int(g), 70)
    }

    public func render() -> SVGDocument {
        let cell = 56.0, left = 70.0, top = 40.0
        let width = left + cell * Double(lengths.count) + 30, height = top + cell * Double(depths.count) + 60
        var svg = SVGDocument(width: width, height: height)
        svg.text(title, x: width / 2, y: 24, size: 15, anchor: .middle)
        for (row, depth) in depths.enumerated() {
            let y = top + Double(row) * cell
            svg.text(String(format: "%.0f%%", depth * 100), x: left - 8, y: y + cell / 2 + 4, size: 11, anchor: .end)
            for (column, length) in lengths.enumerated() {
                let x = left + Double(column) * cell
                if let v = value(length, depth) {
                    svg.rect(x: x, y: y, width: cell, height: cell, fill: Self.color(v), stroke: "white")
                    svg.text(String(format: "%.0f", v), x: x + cell / 2, y: y + cell / 2 + 4, size: 11, anchor: .middle)
                } else {
                    svg.rect(x: x, y: y, width: cell, height: cell, fill: "#eeeeee", stroke: "white")
                }
            }
        }
        for (column, length) in lengths.enumerated() {
            svg.text(length >= 1024 ? "\(length / 1024)k" : "\(length)", x: left + (Double(column) + 0.5) * cell,
                     y: top + cell * Double(depths.count) + 18, size: 11, anchor: .middle)
        }
        svg.text("context length (tokens)", x: left + cell * Double(lengths.count) / 2, y: height - 14, size: 12, anchor: .middle)
        svg.text("needle depth", x: 16, y: top + cell * Double(depths.count) / 2, size: 12, anchor: .middle, rotate: -90)
        return svg
    }
}
