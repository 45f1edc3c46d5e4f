import Foundation

/// The end-of-run table on stdout.
public enum ReportFormatter {
    public static func table(_ report: RunReport, slo: ServiceLevelObjective?) -> String {
        var lines: [String] = []
        let offered = report.offeredRate.map { String(format: "%.0f/s offered, ", $0) } ?? ""
        lines.append("\(report.mode): \(offered)\(String(format: "%.0f/s achieved", report.achievedRate)) over \(String(format: "%.1f", report.measuredSeconds)) s")
        lines.append(
            "requests: \(report.sent) sent, \(report.completed) completed, \(report.ok) ranked (\(report.degraded) degraded), \(report.errorCount) errors"
                + String(format: " (%.3f%%)", report.errorRate * 100)
        )
        if !report.errors.isEmpty {
            lines.append("errors by code: " + report.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
        }
        lines.append("")
        lines.append(row("latency (µs)", ["p50", "p90", "p99", "p99.9", "max"]))
        var rows: [(String, LatencySummary)] = [
            ("client, corrected", report.latency),
            ("client, uncorrected", report.latencyUncorrected),
            ("server total", report.serverTotal),
            ("  fetch", report.serverFetch),
            ("  context build", report.serverContext),
            ("  score + rank", report.serverScore),
        ]
        if let pages = report.pages { rows.insert(("page (\(report.callsPerPage) calls)", pages), at: 0) }
        for (name, summary) in rows {
            lines.append(row(name, [summary.p50, summary.p90, summary.p99, summary.p999, summary.max].map(String.init)))
        }
        if let slo {
            let violations = slo.violations(of: report)
            lines.append("")
            lines.append("SLO \(slo): " + (violations.isEmpty ? "met" : "MISSED — " + violations.joined(separator: "; ")))
        }
        return lines.joined(separator: "\n")
    }

    static func row(_ name: String, _ cells: [String]) -> String {
        name.padding(toLength: 22, withPad: " ", startingAt: 0) + cells.map { $0.leftPadded(to: 9) }.joined()
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
