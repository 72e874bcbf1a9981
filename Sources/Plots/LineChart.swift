import Foundation

/// Lines of (x, y) points, one per series, with a legend (eval: score 0…100 against max length;
/// training: loss against step).
public struct LineChart {
    public var title: String
    public var xLabel = "max length (tokens)"
    public var yLabel = "score"
    /// The y axis; nil fits it to the data.
    public var yRange: ClosedRange<Double>? = 0...100
    public var series: [(name: String, points: [(x: Double, y: Double)])]

    public init(title: String, series: [(name: String, points: [(x: Double, y: Double)])]) {
        self.title = title; self.series = series
    }

    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    public func render() -> SVGDocument {
        let width = 640.0, height = 400.0, left = 60.0, right = 170.0, top = 40.0, bottom = 50.0
        var svg = SVGDocument(width: width, height: height)
        svg.text(title, x: width / 2, y: 24, size: 15, anchor: .middle)
        let xs = series.flatMap { $0.points.map(\.x) }
        let xMin = xs.min() ?? 0, xMax = xs.max() ?? 1
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ x: Double) -> Double { xMax > xMin ? left + (x - xMin) / (xMax - xMin) * plotW : left + plotW / 2 }
        let range = yRange ?? fittedRange()
        let span = max(range.upperBound - range.lowerBound, 1e-12)
        func py(_ y: Double) -> Double { top + plotH - (min(max(y, range.lowerBound), range.upperBound) - range.lowerBound) / span * plotH }
        for i in 0...5 {
            let tick = range.lowerBound + span * Double(i) / 5
            svg.line(x1: left, y1: py(tick), x2: left + plotW, y2: py(tick), stroke: "#e5e5e5")
            svg.text(Self.label(tick), x: left - 8, y: py(tick) + 4, size: 11, anchor: .end)
        }
        for x in xTicks(Set(xs).sorted()) { svg.text(String(Int(x)), x: px(x), y: top + plotH + 18, size: 11, anchor: .middle) }
        svg.line(x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH, stroke: "#333")
        svg.line(x1: left, y1: top, x2: left, y2: top + plotH, stroke: "#333")
        svg.text(xLabel, x: left + plotW / 2, y: height - 12, size: 12, anchor: .middle)
        svg.text(yLabel, x: 18, y: top + plotH / 2, size: 12, anchor: .middle, rotate: -90)
        for (i, s) in series.enumerated() {
            let color = Self.colors[i % Self.colors.count]
            let points = s.points.filter { $0.y.isFinite }.sorted { $0.x < $1.x }.map { (px($0.x), py($0.y)) }
            if points.count > 1 { svg.polyline(points, stroke: color) }
            for p in points { svg.circle(x: p.0, y: p.1, radius: 3, fill: color) }
            svg.rect(x: width - right + 15, y: top + Double(i) * 18, width: 12, height: 12, fill: color)
            svg.text(s.name, x: width - right + 32, y: top + Double(i) * 18 + 10, size: 11)
        }
        return svg
    }

    /// Every distinct x when there are few; otherwise about six evenly spread ones.
    func xTicks(_ distinct: [Double]) -> [Double] {
        guard distinct.count > 12 else { return distinct }
        return (0...5).map { distinct[($0 * (distinct.count - 1)) / 5] }
    }

    func fittedRange() -> ClosedRange<Double> {
        let ys = series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        guard let low = ys.min(), let high = ys.max() else { return 0...1 }
        return high > low ? low...high : (low - 0.5)...(high + 0.5)
    }

    static func label(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e6 ? String(Int(value)) : String(format: "%.3g", value)
    }
}
