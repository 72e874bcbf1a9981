import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import OutputFiles
import Plots

/// The SVG writer's output read back by an XML parser nobody here wrote (Foundation's XMLDocument, libxml2):
/// well-formed, the elements the chart promises, points where the axes put them, and bad values kept out.
final class LineChartTests: XCTestCase {
    /// The chart's SVG parsed; a parse error fails the test with libxml2's message.
    func parse(_ chart: LineChart, file: StaticString = #filePath, line: UInt = #line) throws -> XMLElement {
        let document = try XMLDocument(data: Data(chart.render().text.utf8))
        return try XCTUnwrap(document.rootElement(), "no root element", file: file, line: line)
    }

    func elements(_ root: XMLElement, _ name: String) -> [XMLElement] { root.elements(forName: name) }

    /// An attribute's value, looked up in `attributes` (corelibs' `attribute(forName:)` finds nothing under the
    /// SVG default namespace).
    func attribute(_ element: XMLElement, _ name: String) -> String? {
        element.attributes?.first { $0.name == name }?.stringValue
    }

    func number(_ element: XMLElement, _ name: String) -> Double? { attribute(element, name).flatMap(Double.init) }

    func testTwoSeriesGiveOneLineAndOneMarkerPerPointAndALegend() throws {
        let chart = LineChart(title: "passkey", series: [
            (name: "Mamba", points: [(x: 512, y: 90), (x: 1024, y: 60), (x: 2048, y: 20)]),
            (name: "ReMamba", points: [(x: 512, y: 97), (x: 1024, y: 100)]),
        ])
        let root = try parse(chart)
        XCTAssertEqual(root.name, "svg")
        XCTAssertEqual(attribute(root, "viewBox"), "0 0 640.0 400.0")
        XCTAssertEqual(elements(root, "polyline").count, 2)
        XCTAssertEqual(elements(root, "circle").count, 5)
        let texts = elements(root, "text").compactMap(\.stringValue)
        for expected in ["passkey", "Mamba", "ReMamba", "max length (tokens)", "score", "512", "1024", "2048", "0", "100"] {
            XCTAssertTrue(texts.contains(expected), "missing text \(expected) in \(texts)")
        }
        // Two legend swatches besides the white background, in the series' colours.
        let swatches = elements(root, "rect").filter { attribute($0, "width") == "12.0" }
        XCTAssertEqual(swatches.compactMap { attribute($0, "fill") }, ["#1f77b4", "#d62728"])
    }

    /// Plot area x 60…470, y 40…350 (640×400 less the margins): the first x at the left edge, the last at the
    /// right, y = 100 at the top and 0 at the bottom of the fixed 0…100 range; values outside it are clamped.
    func testPointsSitWhereTheAxesPutThem() throws {
        let chart = LineChart(title: "t", series: [(name: "s", points: [(x: 10, y: 0), (x: 20, y: 100), (x: 30, y: 250)])])
        let circles = try elements(parse(chart), "circle").map { (number($0, "cx")!, number($0, "cy")!) }
        XCTAssertEqual(circles.map(\.0), [60, 265, 470])
        XCTAssertEqual(circles.map(\.1), [350, 40, 40])
    }

    func testFittedRangeSpansTheData() throws {
        var chart = LineChart(title: "loss", series: [(name: "train", points: [(x: 1, y: 2.5), (x: 2, y: 4.5)])])
        chart.yRange = nil
        let circles = try elements(parse(chart), "circle").map { number($0, "cy")! }
        XCTAssertEqual(circles, [350, 40])
    }

    /// NaN and infinite values are left out, not drawn at a made-up place; the text has no "nan"/"inf".
    func testNonFiniteValuesAreSkipped() throws {
        var chart = LineChart(title: "t", series: [(name: "s", points: [(x: 1, y: .nan), (x: 2, y: 3), (x: 3, y: .infinity),
                                                                        (x: 4, y: 5)])])
        chart.yRange = nil
        let text = chart.render().text
        XCTAssertFalse(text.lowercased().contains("nan"))
        XCTAssertFalse(text.lowercased().contains("inf"))
        let root = try parse(chart)
        XCTAssertEqual(elements(root, "circle").count, 2)
        XCTAssertEqual(elements(root, "polyline").count, 1)
    }

    /// No series, an empty series, one point, one x: still a well-formed chart (no line of one point, the lone x centred).
    func testDegenerateDataStillGivesAWellFormedChart() throws {
        XCTAssertEqual(try elements(parse(LineChart(title: "empty", series: [])), "polyline").count, 0)
        let root = try parse(LineChart(title: "one", series: [(name: "none", points: []), (name: "one", points: [(x: 7, y: 50)])]))
        XCTAssertEqual(elements(root, "polyline").count, 0)
        let circles = elements(root, "circle")
        XCTAssertEqual(circles.count, 1)
        XCTAssertEqual(number(circles[0], "cx"), 265)
        XCTAssertEqual(number(circles[0], "cy"), 195)
    }

    /// Markup in titles and names is escaped: the parser reads back exactly the text given.
    func testMarkupInLabelsIsEscaped() throws {
        let title = "a < b & \"c\" > d </svg>"
        let root = try parse(LineChart(title: title, series: [(name: "<script>", points: [(x: 1, y: 1)])]))
        let texts = elements(root, "text").compactMap(\.stringValue)
        XCTAssertTrue(texts.contains(title))
        XCTAssertTrue(texts.contains("<script>"))
        XCTAssertTrue(elements(root, "script").isEmpty)
    }

    func testWriteCreatesTheFileAndBadPathsGiveErrorsNamingThem() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plots-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let chart = LineChart(title: "t", series: [(name: "s", points: [(x: 1, y: 1), (x: 2, y: 2)])])
        let url = directory.appendingPathComponent("chart.svg")
        try chart.render().write(to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), chart.render().text)

        let missing = directory.appendingPathComponent("no/such/dir/chart.svg")
        XCTAssertThrowsError(try chart.render().write(to: missing)) { error in
            guard case .missingDirectory(let path, _)? = error as? OutputError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, missing.path)
        }
        XCTAssertThrowsError(try chart.render().write(to: directory)) { error in
            XCTAssertEqual(error as? OutputError, .isDirectory(path: directory.path))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["chart.svg"], "no partial files left")
    }
}
