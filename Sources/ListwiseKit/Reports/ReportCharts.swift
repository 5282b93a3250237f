// The report's four charts (score histogram, map, gains, calibration) as inline SVG of bounded
// size: the histogram has 20 bins whatever the homes, and a map of many homes is a grid of cells.
import Foundation

extension HTMLReport {
    static let tierColors = ["High": "#c0392b", "Medium": "#f39c12", "Low": "#8fb8d8"]
    /// Five classes from low (green) to high (red) score.
    static let classColors = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]
    static let onMarketColor = "#666666"
    /// Above this many homes with coordinates the map draws a grid of cells instead of one dot a home.
    public static let mapPointLimit = 4000
    static let mapColumns = 80

    static func percent(_ p: Double) -> String {
        String(format: 100 * p < 1 ? "%.2f%%" : "%.1f%%", 100 * p)
    }

    /// Homes not on the market in 20 bins of probability, stacked by tier.
    static func histogram(_ homes: [TerritoryReport.Home]) -> String {
        let bins = 20
        // The axis ends at the 99.5th percentile, not at the highest probability: a few homes far out
        // would otherwise squeeze all the others into the first bands. They are counted in the last one.
        let sorted = homes.filter { !$0.onMarket }.map(\.probability).sorted()
        let upper = Ticks.roundedUp(sorted.isEmpty ? 0 : sorted[Int(0.995 * Double(sorted.count - 1))])
        let beyond = sorted.count - (sorted.firstIndex { $0 > upper } ?? sorted.count)
        var counts = [[Int]](repeating: [0, 0, 0], count: bins)
        for home in homes where !home.onMarket {
            let bin = min(bins - 1, Int(Double(bins) * home.probability / upper))
            counts[bin][TerritoryReport.tiers.firstIndex { $0 == home.tier } ?? 2] += 1
        }
        let yUpper = Ticks.roundedUp(Double(max(counts.map { $0.reduce(0, +) }.max() ?? 0, 5)))
        let chart = SVGChart(
            x: Ticks.axis("Predicted probability of listing within the horizon", 0, upper, scale: 100, suffix: "%"),
            y: Ticks.axis("Homes", 0, yUpper), xDomain: 0...upper, yDomain: 0...yUpper,
            legend: TerritoryReport.tiers.map { LegendItem(swatch: .box(tierColors[$0]!), label: "\($0) tier") })
        var marks = "<g class=\"bars\">"
        for (bin, tierCounts) in counts.enumerated() {
            let x0 = chart.xScale(upper * Double(bin) / Double(bins)), x1 = chart.xScale(upper * Double(bin + 1) / Double(bins))
            var stacked = 0
            for tier in [2, 1, 0] where tierCounts[tier] > 0 {
                let y0 = chart.yScale(Double(stacked)), y1 = chart.yScale(Double(stacked + tierCounts[tier]))
                marks += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\"/>", x0 + 1, y1,
                                x1 - x0 - 2, y0 - y1, tierColors[TerritoryReport.tiers[tier]]!)
                stacked += tierCounts[tier]
            }
        }
        return chart.render(title: "Score histogram.",
                            caption: "Homes not on the market by predicted probability, in 20 bands, coloured by tier."
                                + (beyond > 0 ? " The last band also counts the \(beyond) homes above \(percent(upper))." : ""),
                            marks: marks + "</g>\n")
    }

    /// Class breaks at the quintiles of `values` (duplicates dropped) and the legend labels of the classes.
    static func classes(_ values: [Double], prefix: String) -> (breaks: [Double], labels: [String]) {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return ([], []) }
        var breaks: [Double] = []
        for q in 1...4 {
            let value = sorted[min(sorted.count - 1, q * sorted.count / 5)]
            if value > sorted[0], breaks.last.map({ value > $0 }) ?? true { breaks.append(value) }
        }
        let lead = prefix.isEmpty ? "" : prefix + " "
        var labels: [String] = []
        for index in 0...breaks.count {
            switch (index == 0 ? nil : breaks[index - 1], index == breaks.count ? nil : breaks[index]) {
            case (nil, nil): labels.append("\(lead)\(percent(sorted[0]))")
            case (nil, let high?): labels.append("\(lead)under \(percent(high))")
            case (let low?, nil): labels.append("\(lead)\(percent(low)) and over")
            case (let low?, let high?): labels.append("\(lead)\(percent(low)) to \(percent(high))")
            }
        }
        return (breaks, labels)
    }

    static func classColor(_ value: Double, _ breaks: [Double]) -> String {
        let index = breaks.firstIndex { value < $0 } ?? breaks.count
        return classColors[breaks.isEmpty ? 4 : index * 4 / breaks.count]
    }

    static func map(_ homes: [TerritoryReport.Home]) -> String {
        var west = Double.infinity, east = -Double.infinity, south = Double.infinity, north = -Double.infinity
        var located = 0
        for home in homes {
            guard let lat = home.latitude, let lon = home.longitude else { continue }
            located += 1
            west = min(west, lon); east = max(east, lon); south = min(south, lat); north = max(north, lat)
        }
        guard located > 0 else { return "<p>No homes with coordinates to map.</p>" }
        let plotHeight = 360.0
        (west, east, south, north) = mapBox(west: west, east: east, south: south, north: north,
                                            widthPerHeight: (SVGChart.right - SVGChart.left) / plotHeight)
        var chart = SVGChart(x: Ticks.axis("Longitude (°)", west, east), y: Ticks.axis("Latitude (°)", south, north),
                             xDomain: west...east, yDomain: south...north, legend: [])
        chart.plotHeight = plotHeight
        var marks = "", caption = ""
        if located <= mapPointLimit {
            let dots = homes.filter { $0.latitude != nil && $0.longitude != nil }.sorted { $0.probability < $1.probability }
            let (breaks, labels) = classes(dots.filter { !$0.onMarket }.map(\.probability), prefix: "")
            for home in dots {
                let fill = home.onMarket ? onMarketColor : classColor(home.probability, breaks)
                marks += String(format: "<circle class=\"home\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%@\"/>",
                                chart.xScale(home.longitude!), chart.yScale(home.latitude!), fill)
            }
            chart.legend = zip(labels, classColors.indices).map { label, index in
                LegendItem(swatch: .dot(classColor(index == 0 ? -1 : breaks[index - 1], breaks)), label: label)
            } + [LegendItem(swatch: .dot(onMarketColor), label: "on the market")]
            caption = "One dot per home (\(located)), coloured by predicted probability (five classes of equal size)."
        } else {
            let columns = mapColumns, rows = Int((Double(columns) * chart.plotHeight / (chart.right - chart.left)).rounded())
            var sums = [Double](repeating: 0, count: columns * rows), ranked = [Int](repeating: 0, count: columns * rows)
            var onMarket = [Int](repeating: 0, count: columns * rows)
            for home in homes {
                guard let lat = home.latitude, let lon = home.longitude else { continue }
                let column = min(columns - 1, Int(Double(columns) * (lon - west) / (east - west)))
                let row = min(rows - 1, Int(Double(rows) * (north - lat) / (north - south)))
                if home.onMarket { onMarket[row * columns + column] += 1 } else {
                    sums[row * columns + column] += home.probability
                    ranked[row * columns + column] += 1
                }
            }
            let means = ranked.indices.filter { ranked[$0] > 0 }.map { sums[$0] / Double(ranked[$0]) }
            let (breaks, labels) = classes(means, prefix: "mean")
            let cellWidth = (chart.right - chart.left) / Double(columns), cellHeight = chart.plotHeight / Double(rows)
            marks = "<g class=\"cells\">"
            for cell in sums.indices where ranked[cell] > 0 || onMarket[cell] > 0 {
                let fill = ranked[cell] > 0 ? classColor(sums[cell] / Double(ranked[cell]), breaks) : onMarketColor
                marks += String(format: "<rect class=\"cell\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\"/>",
                                chart.left + Double(cell % columns) * cellWidth, chart.top + Double(cell / columns) * cellHeight,
                                cellWidth + 0.2, cellHeight + 0.2, fill)
            }
            marks += "</g>\n"
            chart.legend = zip(labels, classColors.indices).map { label, index in
                LegendItem(swatch: .box(classColor(index == 0 ? -1 : breaks[index - 1], breaks)), label: label)
            } + [LegendItem(swatch: .box(onMarketColor), label: "only homes on the market")]
            caption = String(format: "%d homes in a grid of %d × %d cells (%.4f° × %.4f°), each coloured by the mean predicted "
                                 + "probability of its homes not on the market (five classes of equal size).",
                             located, columns, rows, (east - west) / Double(columns), (north - south) / Double(rows))
        }
        return chart.render(title: "Map of homes by score.", caption: caption, marks: marks)
    }

    /// The homes' box, 3 % larger on each side, widened around its middle to the plot's proportions so
    /// that a mile is as long across as up (a degree of longitude is cos(latitude) of a degree of latitude).
    static func mapBox(west: Double, east: Double, south: Double, north: Double, widthPerHeight: Double)
        -> (Double, Double, Double, Double) {
        let cosine = max(cos((south + north) / 2 * .pi / 180), 0.01)
        let width = max(east - west, 0.002) * cosine * 1.06, height = max(north - south, 0.002) * 1.06
        let halfWidth = max(width, height * widthPerHeight) / cosine / 2, halfHeight = max(height, width / widthPerHeight) / 2
        let middleX = (west + east) / 2, middleY = (south + north) / 2
        return (middleX - halfWidth, middleX + halfWidth, middleY - halfHeight, middleY + halfHeight)
    }

    static func gains(_ deciles: [DecileRow]) -> String {
        let chart = SVGChart(x: Ticks.axis("Homes contacted, best scores first", 0, 1, scale: 100, suffix: "%"),
                             y: Ticks.axis("Listings captured", 0, 1, scale: 100, suffix: "%"), xDomain: 0...1, yDomain: 0...1,
                             legend: [LegendItem(swatch: .line("#c0392b", dashed: false), label: "model (validation deciles)"),
                                      LegendItem(swatch: .line("#999999", dashed: true), label: "random order")])
        var points = String(format: "%.1f,%.1f", chart.xScale(0), chart.yScale(0)), dots = ""
        for d in deciles {
            let x = chart.xScale(Double(d.decile) / 10), y = chart.yScale(d.cumulativeCapture)
            points += String(format: " %.1f,%.1f", x, y)
            dots += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#c0392b\"/>", x, y)
        }
        let marks = diagonal(chart, to: 1) + "<polyline points=\"\(points)\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2.5\"/>" + dots + "\n"
        return chart.render(title: "Gains.",
                            caption: "Share of the validation's listings found by contacting the best-scored homes first.", marks: marks)
    }

    static func calibration(_ deciles: [DecileRow]) -> String {
        let top = Ticks.roundedUp(deciles.map { max($0.meanPredicted, $0.observedRate) }.max() ?? 0)
        let chart = SVGChart(x: Ticks.axis("Predicted probability (decile mean)", 0, top, scale: 100, suffix: "%"),
                             y: Ticks.axis("Observed listing rate", 0, top, scale: 100, suffix: "%"), xDomain: 0...top, yDomain: 0...top,
                             legend: [LegendItem(swatch: .dot("#2c7fb8"), label: "a decile of validation homes"),
                                      LegendItem(swatch: .line("#999999", dashed: true), label: "perfect calibration")])
        var marks = diagonal(chart, to: top)
        for d in deciles {
            marks += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#2c7fb8\"/>",
                            chart.xScale(d.meanPredicted), chart.yScale(d.observedRate))
        }
        return chart.render(title: "Calibration.",
                            caption: "Observed listing rate against the predicted probability, by decile of the model's validation.",
                            marks: marks + "\n")
    }

    /// The dashed line from (0, 0) to (end, end): random order in the gains chart, perfect calibration in the other.
    static func diagonal(_ chart: SVGChart, to end: Double) -> String {
        String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999999\" stroke-width=\"2.5\" stroke-dasharray=\"4 3\"/>",
               chart.xScale(0), chart.yScale(0), chart.xScale(end), chart.yScale(end))
    }
}
