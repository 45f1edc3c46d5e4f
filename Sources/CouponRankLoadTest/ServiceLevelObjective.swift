/// Thresholds a run must meet: latency percentiles, an error rate, and a share of degraded
/// (not fully personalised) answers.
public struct ServiceLevelObjective: Sendable, Hashable, CustomStringConvertible {
    /// `(percentile, limit)`, e.g. `(99, 50 ms)`.
    public var latency: [(percentile: Double, limit: Duration)]
    /// Largest acceptable fraction of failed calls, e.g. 0.001.
    public var maximumErrorRate: Double?
    /// Largest acceptable fraction of degraded answers, e.g. 0.01.
    public var maximumDegradedRate: Double?
    /// For pages: judge page latencies instead of calls.
    public var judgesPages = false

    public init(latency: [(percentile: Double, limit: Duration)] = [], maximumErrorRate: Double? = nil, maximumDegradedRate: Double? = nil) {
        self.latency = latency
        self.maximumErrorRate = maximumErrorRate
        self.maximumDegradedRate = maximumDegradedRate
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.description == rhs.description
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(description)
    }

    /// Parses `p99=50ms` (also p50, p90, p99.9, max).
    public static func parseLatency(_ text: String) -> (percentile: Double, limit: Duration)? {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        let percentile: Double
        switch parts[0].lowercased() {
        case "p50": percentile = 50
        case "p90": percentile = 90
        case "p99": percentile = 99
        case "p99.9", "p999": percentile = 99.9
        case "max": percentile = 100
        default: return nil
        }
        let units: [(String, Double)] = [("us", 1e3), ("ms", 1e6), ("s", 1e9)]  // nanoseconds per unit
        for (suffix, nanoseconds) in units where parts[1].hasSuffix(suffix) {
            guard let number = Double(parts[1].dropLast(suffix.count)), number > 0 else { return nil }
            return (percentile, .nanoseconds(Int64((number * nanoseconds).rounded())))
        }
        return nil
    }

    /// Parses `0.1%` or `0.001`.
    public static func parseRate(_ text: String) -> Double? {
        if text.hasSuffix("%") {
            return Double(text.dropLast()).map { $0 / 100 }.flatMap { (0...1).contains($0) ? $0 : nil }
        }
        return Double(text).flatMap { (0...1).contains($0) ? $0 : nil }
    }

    /// What `report` misses, in words; empty when it meets every threshold.
    public func violations(of report: RunReport) -> [String] {
        var violations: [String] = []
        let summary = judgesPages ? (report.pages ?? report.latency) : report.latency
        for (percentile, limit) in latency {
            guard let micros = summary.value(at: percentile) else { continue }
            let limitMicros = LatencyRecorder.micros(limit)
            if micros > limitMicros {
                violations.append("\(Self.name(percentile)) \(micros) µs > \(limitMicros) µs")
            }
        }
        if let maximumErrorRate, report.errorRate > maximumErrorRate {
            violations.append(String(format: "error rate %.4f%% > %.4f%%", report.errorRate * 100, maximumErrorRate * 100))
        }
        if let maximumDegradedRate, report.degradedRate > maximumDegradedRate {
            violations.append(String(format: "degraded %.2f%% > %.2f%%", report.degradedRate * 100, maximumDegradedRate * 100))
        }
        if report.completed == 0 {
            violations.append("no request completed")
        }
        return violations
    }

    public var description: String {
        var parts = latency.map { "\(Self.name($0.percentile)) ≤ \(Self.format($0.limit))" }
        if let maximumErrorRate { parts.append(String(format: "errors ≤ %.3g%%", maximumErrorRate * 100)) }
        if let maximumDegradedRate { parts.append(String(format: "degraded ≤ %.3g%%", maximumDegradedRate * 100)) }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    /// `250 µs`, `50 ms`, `1.5 s`: the unit the limit was most likely written in.
    static func format(_ limit: Duration) -> String {
        let micros = LatencyRecorder.micros(limit)
        if micros < 1000 { return "\(micros) µs" }
        if micros < 1_000_000 { return micros % 1000 == 0 ? "\(micros / 1000) ms" : String(format: "%.1f ms", Double(micros) / 1000) }
        return String(format: "%g s", Double(micros) / 1e6)
    }

    static func name(_ percentile: Double) -> String {
        switch percentile {
        case 100: "max"
        case 99.9: "p99.9"
        default: "p\(Int(percentile))"
        }
    }
}

import Foundation
