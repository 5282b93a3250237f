// Chart furniture for the HTML report's inline SVG: linear scales, "nice" ticks, labelled axes and
// legends. Axes and legends are flat groups (class "axis x", "axis y", "legend") so tests can check them.
import Foundation

/// Maps a data interval onto a pixel interval (the pixel end may be smaller than its start: y grows down).
struct LinearScale: Sendable {
    var lower: Double, upper: Double
    var start: Double, end: Double

    func callAsFunction(_ value: Double) -> Double {
        start + (end - start) * (value - lower) / max(upper - lower, 1e-12)
    }
}

/// How a legend entry is drawn.
enum LegendSwatch: Sendable {
    case box(String), line(String, dashed: Bool), dot(String)
}

struct LegendItem: Sendable {
    var swatch: LegendSwatch
    var label: String
}

/// One axis: its title, tick positions (in data units) and how a tick is written.
struct Axis: Sendable {
    var title: String
    var ticks: [Double]
    var label: @Sendable (Double) -> String
}

/// A chart of fixed size: a plot area framed by an x axis below, a y axis on the left and a
/// legend under the x axis (wrapped onto as many rows as it needs).
struct SVGChart: Sendable {
    static let width = 560.0
    var plotHeight = 220.0
    static let left = 72.0, top = 16.0, right = 540.0
    var left: Double { Self.left }
    var top: Double { Self.top }
    var right: Double { Self.right }
    var bottom: Double { top + plotHeight }

    var x: Axis, y: Axis
    var xDomain: ClosedRange<Double>, yDomain: ClosedRange<Double>
    var legend: [LegendItem]

    var xScale: LinearScale { LinearScale(lower: xDomain.lowerBound, upper: xDomain.upperBound, start: left, end: right) }
    var yScale: LinearScale { LinearScale(lower: yDomain.lowerBound, upper: yDomain.upperBound, start: bottom, end: top) }

    /// The figure: `marks` (drawn in plot coordinates by the caller) between the grid and the axes.
    func render(title: String, caption: String, marks: String) -> String {
        let (legendSVG, legendHeight) = legendGroup(at: bottom + 52)
        let height = Int((bottom + 52 + legendHeight + 6).rounded())
        var svg = "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(Self.width))\" height=\"\(height)\" "
            + "viewBox=\"0 0 \(Int(Self.width)) \(height)\" role=\"img\" aria-label=\"\(HTMLReport.escape(title))\" "
            + "font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<rect x=\"0\" y=\"0\" width=\"\(Int(Self.width))\" height=\"\(height)\" fill=\"#ffffff\" stroke=\"#cccccc\"/>\n"
        svg += grid()
        svg += marks
        svg += xAxisGroup() + yAxisGroup() + legendSVG
        svg += "</svg><figcaption><b>\(HTMLReport.escape(title))</b> \(HTMLReport.escape(caption))</figcaption></figure>\n"
        return svg
    }

    private func grid() -> String {
        var out = "<g class=\"grid\" stroke=\"#eeeeee\">"
        for t in x.ticks { out += line(xScale(t), top, xScale(t), bottom) }
        for t in y.ticks { out += line(left, yScale(t), right, yScale(t)) }
        return out + "</g>\n"
    }

    private func xAxisGroup() -> String {
        var out = "<g class=\"axis x\">" + line(left, bottom, right, bottom, stroke: "#333333")
        for t in x.ticks {
            let px = xScale(t)
            out += line(px, bottom, px, bottom + 5, stroke: "#333333", cls: "tick")
            out += text(px, bottom + 18, x.label(t), anchor: "middle", cls: "tick-label")
        }
        out += text((left + right) / 2, bottom + 36, x.title, anchor: "middle", cls: "axis-title", size: 12)
        return out + "</g>\n"
    }

    private func yAxisGroup() -> String {
        var out = "<g class=\"axis y\">" + line(left, top, left, bottom, stroke: "#333333")
        for t in y.ticks {
            let py = yScale(t)
            out += line(left - 5, py, left, py, stroke: "#333333", cls: "tick")
            out += text(left - 8, py + 4, y.label(t), anchor: "end", cls: "tick-label")
        }
        let middle = (top + bottom) / 2
        out += String(format: "<text class=\"axis-title\" x=\"16\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\" "
                          + "transform=\"rotate(-90 16 %.1f)\">", middle, middle) + HTMLReport.escape(y.title) + "</text>"
        return out + "</g>\n"
    }

    /// The legend group and its height; entries flow left to right and wrap.
    private func legendGroup(at y0: Double) -> (String, Double) {
        var out = "<g class=\"legend\">"
        var px = left, row = 0.0
        for item in legend {
            let width = 22 + 6.2 * Double(item.label.count) + 16
            if px + width > Self.width - 8 && px > left { px = left; row += 18 }
            let cy = y0 + row + 6
            switch item.swatch {
            case .box(let color):
                out += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%@\"/>", px, cy - 5, color)
            case .line(let color, let dashed):
                out += line(px, cy, px + 16, cy, stroke: color, width: 2.5, dashed: dashed)
            case .dot(let color):
                out += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%@\"/>", px + 7, cy, color)
            }
            out += text(px + 22, cy + 4, item.label, anchor: "start", cls: "legend-label")
            px += width
        }
        return (out + "</g>\n", row + 14)
    }

    private func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String? = nil, cls: String? = nil,
                      width: Double = 1, dashed: Bool = false) -> String {
        var out = String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"", x1, y1, x2, y2)
        if let cls { out += " class=\"\(cls)\"" }
        if let stroke { out += " stroke=\"\(stroke)\"" }
        if width != 1 { out += String(format: " stroke-width=\"%.1f\"", width) }
        if dashed { out += " stroke-dasharray=\"4 3\"" }
        return out + "/>"
    }

    private func text(_ x: Double, _ y: Double, _ content: String, anchor: String, cls: String, size: Int? = nil) -> String {
        String(format: "<text class=\"%@\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%@\"", cls, x, y, anchor)
            + (size.map { " font-size=\"\($0)\"" } ?? "") + ">" + HTMLReport.escape(content) + "</text>"
    }
}

enum Ticks {
    /// A round step (1, 2 or 5 times a power of ten) giving about `count` intervals over `span`:
    /// never more than 0.4·span for count 5, so an interval always holds at least two ticks.
    static func step(span: Double, count: Int = 5) -> Double {
        let raw = max(span, 1e-12) / Double(count)
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / magnitude
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude
    }

    /// The multiples of the step inside `lower...upper`.
    static func values(_ lower: Double, _ upper: Double, count: Int = 5) -> [Double] {
        let step = step(span: upper - lower, count: count)
        var ticks: [Double] = []
        var index = (lower / step - 1e-9).rounded(.up)
        while index * step <= upper + step * 1e-9 {
            ticks.append(index * step)
            index += 1
        }
        return ticks
    }

    /// An upper bound for an axis from 0 that ends on a tick.
    static func roundedUp(_ maximum: Double, count: Int = 5) -> Double {
        guard maximum > 0 else { return 1 }
        let step = step(span: maximum, count: count)
        return (maximum / step - 1e-9).rounded(.up) * step
    }

    /// Writes a tick value with as many decimals as its step needs (`scale` 100 for percentages).
    static func formatter(step: Double, scale: Double = 1, suffix: String = "") -> @Sendable (Double) -> String {
        let decimals = max(0, Int((-log10(step * scale) - 1e-9).rounded(.up)))
        return { value in
            let scaled = value * scale
            return String(format: "%.\(decimals)f", abs(scaled) < 1e-12 ? 0 : scaled) + suffix
        }
    }

    static func axis(_ title: String, _ lower: Double, _ upper: Double, scale: Double = 1, suffix: String = "") -> Axis {
        Axis(title: title, ticks: values(lower, upper), label: formatter(step: step(span: upper - lower), scale: scale, suffix: suffix))
    }
}
