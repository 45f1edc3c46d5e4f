import Foundation

/// Small, dependency-free SVG charts for the PoC report.
public enum SVGChart {
    /// Latency percentiles (log scale, ms) against achieved throughput: one line per percentile,
    /// one point per step of a rate sweep; the SLO's p99 limit as a labelled line, and the rate
    /// chosen as the maximum (`chosen`, achieved ranks/s) marked.
    public static func latencyVersusThroughput(_ points: [MaximumRateSearch.Point], title: String, slo: Duration? = nil, chosen: Double? = nil) -> String {
        let sorted = points.sorted { $0.achievedRate < $1.achievedRate }
        let series: [(String, String, (MaximumRateSearch.Point) -> UInt64)] = [
            ("p50", "#1f77b4", { $0.p50 }), ("p99", "#d62728", { $0.p99 }), ("p99.9", "#9467bd", { $0.p999 }),
        ]
        let maxX = max(sorted.map(\.achievedRate).max() ?? 1, 1) * 1.05
        let values = sorted.flatMap { point in series.map { Double($0.2(point)) / 1000 } } + [slo.map { Double(LatencyRecorder.micros($0)) / 1000 } ?? 1]
        var plot = Plot(title: title, xLabel: "achieved ranks per second", yLabel: "latency (ms, log scale)",
                        maxX: maxX, minY: max(values.min() ?? 0.01, 0.01), maxY: max(values.max() ?? 1, 1))
        if let slo {
            plot.horizontalLine(at: Double(LatencyRecorder.micros(slo)) / 1000, label: "SLO: p99 ≤ \(ServiceLevelObjective.format(slo))", color: "#555")
        }
        if let chosen {
            plot.verticalLine(at: chosen, label: String(format: "maximum at the SLO: %.0f/s achieved", chosen), color: "#2ca02c")
        }
        for (name, color, value) in series {
            plot.line(sorted.map { ($0.achievedRate, Double(value($0)) / 1000) }, label: name, color: color)
        }
        return plot.render()
    }

    /// A latency distribution: latency (ms, log) against percentile on the usual
    /// "1/(1 − p)" axis, corrected and uncorrected.
    public static func latencyDistribution(_ report: RunReport, title: String) -> String {
        let percentiles: [Double] = [50, 90, 99, 99.9, 100]
        let corrected = percentiles.compactMap { p in report.latency.value(at: p).map { (p, Double($0) / 1000) } }
        let uncorrected = percentiles.compactMap { p in report.latencyUncorrected.value(at: p).map { (p, Double($0) / 1000) } }
        func x(_ p: Double) -> Double { log10(1 / max(1 - p / 100, 0.0001)) }
        let values = (corrected + uncorrected).map(\.1)
        var plot = Plot(title: title, xLabel: "percentile", yLabel: "latency (ms, log scale)",
                        maxX: 4.2, minY: max(values.min() ?? 0.01, 0.01), maxY: max(values.max() ?? 1, 1))
        plot.xTicks = [(0.301, "50%"), (1, "90%"), (2, "99%"), (3, "99.9%"), (4, "max")]
        plot.line(corrected.map { (x($0.0), $0.1) }, label: "corrected (from intended start)", color: "#d62728")
        plot.line(uncorrected.map { (x($0.0), $0.1) }, label: "uncorrected (from send)", color: "#1f77b4")
        return plot.render()
    }

    /// The x axis of a chart whose largest value is `maxX`: round, distinct ticks from 0 to the
    /// first tick at or above `maxX`.
    public static func roundTicks(upTo maxX: Double) -> [(value: Double, label: String)] {
        let step = Plot.tickStep(maxX)
        return Plot.ticks(upTo: (maxX / step).rounded(.up) * step, step: step)
    }

    struct Plot {
        let title: String
        let xLabel: String
        let yLabel: String
        let maxX: Double
        let minY: Double
        let maxY: Double
        var xTicks: [(value: Double, label: String)]
        private var body: [String] = []
        private var legend: [(String, String)] = []
        let width = 720.0
        let height = 420.0
        let left = 70.0
        let right = 30.0
        let top = 40.0
        let bottom = 50.0

        /// The x axis runs from 0 to `maxX` rounded up to a whole tick step.
        init(title: String, xLabel: String, yLabel: String, maxX: Double, minY: Double, maxY: Double) {
            self.title = title
            self.xLabel = xLabel
            self.yLabel = yLabel
            self.xTicks = SVGChart.roundTicks(upTo: maxX)
            self.maxX = xTicks.last!.value
            self.minY = pow(10, floor(log10(minY)))
            self.maxY = pow(10, ceil(log10(maxY * 1.01)))
        }

        /// A round step (1, 2 or 5 × 10ⁿ) that cuts 0…`maxX` into at most 6 intervals.
        static func tickStep(_ maxX: Double) -> Double {
            let rough = max(maxX, 1e-9) / 6
            let magnitude = pow(10, floor(log10(rough)))
            return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough }!
        }

        /// Ticks at 0, step, 2·step, … up to `maxX`, labelled `0`, `500`, `1k`, `1.5k`, ….
        static func ticks(upTo maxX: Double, step: Double) -> [(value: Double, label: String)] {
            let count = Int((maxX / step).rounded())
            return (0...count).map { index in
                let value = Double(index) * step
                return (value, value >= 1000 ? String(format: "%gk", value / 1000) : String(format: "%g", value))
            }
        }

        func px(_ x: Double) -> Double { left + x / maxX * (width - left - right) }
        func py(_ y: Double) -> Double {
            let t = (log10(max(y, minY)) - log10(minY)) / (log10(maxY) - log10(minY))
            return height - bottom - t * (height - top - bottom)
        }

        mutating func line(_ points: [(Double, Double)], label: String, color: String) {
            guard !points.isEmpty else { return }
            let path = points.map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }.joined(separator: " ")
            body.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>")
            for point in points {
                body.append(String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\"/>", px(point.0), py(point.1), color))
            }
            legend.append((label, color))
        }

        /// A dashed line across the plot, labelled just above its right end.
        mutating func horizontalLine(at y: Double, label: String, color: String) {
            body.append(String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-dasharray=\"6 4\"/>", left, width - right, py(y), py(y), color))
            body.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"%@\">%@</text>", width - right - 4, py(y) - 5, color, escape(label)))
        }

        /// A dashed line up the plot at `x`, labelled beside its top.
        mutating func verticalLine(at x: Double, label: String, color: String) {
            let anchorEnd = px(x) > (left + width - right) / 2
            body.append(String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"1.5\" stroke-dasharray=\"3 3\"/>", px(x), px(x), top, height - bottom, color))
            body.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%@\" fill=\"%@\">%@</text>", px(x) + (anchorEnd ? -4 : 4), top + 14, anchorEnd ? "end" : "start", color, escape(label)))
        }

        func render() -> String {
            var svg: [String] = []
            svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">")
            svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>")
            svg.append("<text x=\"\(Int(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(escape(title))</text>")
            // Axes and grid.
            var decade = minY
            while decade <= maxY * 1.0001 {
                let y = py(decade)
                svg.append(String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", left, width - right, y, y))
                svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>", left - 6, y + 4, Self.format(decade)))
                decade *= 10
            }
            for (value, label) in xTicks {
                svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", px(value), height - bottom + 18, label))
            }
            svg.append(String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>", left, width - right, height - bottom, height - bottom))
            svg.append(String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>", left, left, top, height - bottom))
            svg.append("<text x=\"\(Int((left + width - right) / 2))\" y=\"\(Int(height - 10))\" text-anchor=\"middle\">\(escape(xLabel))</text>")
            svg.append("<text transform=\"translate(16,\(Int(height / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>")
            svg.append(contentsOf: body)
            // The legend: inside the frame, top left, on white.
            if !legend.isEmpty {
                let boxWidth = 40 + 7 * Double(legend.map(\.0.count).max() ?? 0)
                svg.append(String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#ccc\"/>", left + 8, top + 4, boxWidth, Double(legend.count) * 18 + 8))
            }
            for (index, entry) in legend.enumerated() {
                let y = top + 20 + Double(index) * 18
                svg.append(String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"4\" fill=\"%@\"/>", left + 16, y - 4, entry.1))
                svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\">%@</text>", left + 36, y, escape(entry.0)))
            }
            svg.append("</svg>")
            return svg.joined(separator: "\n") + "\n"
        }

        static func format(_ value: Double) -> String {
            if value >= 1000 { return String(format: "%.0fk", value / 1000) }
            if value >= 1 { return String(format: "%.0f", value) }
            return String(format: "%g", value)
        }

        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        }
    }
}
