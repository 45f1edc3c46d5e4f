import Foundation

/// What a run did. Every data row read is exactly one of ranked, no eligible coupon, failed
/// (these three are in the output, with their status) or skipped (a bad row, not in the output).
public struct BatchSummary: Sendable, Hashable, Codable {
    public var input: String
    public var output: String
    /// `in-process` or `server HOST:PORT`.
    public var mode: String
    /// Data rows read, the header not counted.
    public var rowsRead = 0
    /// Rows written with status `ok`.
    public var rowsRanked = 0
    /// Rows written with status `no_eligible_coupon`.
    public var rowsNoEligibleCoupon = 0
    /// Rows written with status `error:<reason>`, and how many of each reason.
    public var rowsFailed = 0
    public var failedByReason: [String: Int] = [:]
    /// Bad rows, reported on stderr and left out of the output, and how many of each reason.
    public var rowsSkipped = 0
    public var skippedByReason: [String: Int] = [:]
    /// Ranked rows for which a source (user features or stats) was answered from its defaults.
    public var rowsDegraded = 0
    /// Ranked rows by the version of the model that ranked them.
    public var modelVersions: [String: Int] = [:]
    public var elapsedSeconds = 0.0
    /// Rows read per second of ``elapsedSeconds``.
    public var rowsPerSecond = 0.0

    public init(input: String, output: String, mode: String) {
        self.input = input
        self.output = output
        self.mode = mode
    }

    enum CodingKeys: String, CodingKey {
        case input, output, mode
        case rowsRead = "rows_read"
        case rowsRanked = "rows_ranked"
        case rowsNoEligibleCoupon = "rows_no_eligible_coupon"
        case rowsFailed = "rows_failed"
        case failedByReason = "failed_by_reason"
        case rowsSkipped = "rows_skipped"
        case skippedByReason = "skipped_by_reason"
        case rowsDegraded = "rows_degraded"
        case modelVersions = "model_versions"
        case elapsedSeconds = "elapsed_seconds"
        case rowsPerSecond = "rows_per_second"
    }

    /// Rows in the output.
    public var rowsWritten: Int { rowsRanked + rowsNoEligibleCoupon + rowsFailed }

    mutating func count(_ outcome: RowOutcome) {
        switch outcome {
        case .ranked(_, let modelVersion, let degraded):
            rowsRanked += 1
            modelVersions[modelVersion, default: 0] += 1
            if degraded { rowsDegraded += 1 }
        case .noEligibleCoupon:
            rowsNoEligibleCoupon += 1
        case .failed:
            rowsFailed += 1
            failedByReason[outcome.status, default: 0] += 1
        }
    }

    mutating func count(_ problem: RowProblem) {
        rowsSkipped += 1
        skippedByReason[problem.reason.name, default: 0] += 1
    }

    /// Adds the rows counted in `other`.
    mutating func add(_ other: BatchSummary) {
        rowsRanked += other.rowsRanked
        rowsNoEligibleCoupon += other.rowsNoEligibleCoupon
        rowsFailed += other.rowsFailed
        failedByReason.merge(other.failedByReason, uniquingKeysWith: +)
        rowsDegraded += other.rowsDegraded
        modelVersions.merge(other.modelVersions, uniquingKeysWith: +)
    }

    /// The summary for a person, a few lines.
    public var text: String {
        func counts(_ table: [String: Int]) -> String {
            table.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        var lines = [
            "batch: \(rowsRead) rows read in \(Self.format(elapsedSeconds, digits: 2)) s (\(Self.format(rowsPerSecond, digits: 0)) rows/s), \(mode)",
            "  ranked \(rowsRanked), no eligible coupon \(rowsNoEligibleCoupon), failed \(rowsFailed), skipped \(rowsSkipped); \(rowsWritten) rows written to \(output)",
        ]
        if !failedByReason.isEmpty { lines.append("  failed: \(counts(failedByReason))") }
        if !skippedByReason.isEmpty { lines.append("  skipped: \(counts(skippedByReason))") }
        if !modelVersions.isEmpty { lines.append("  model: \(counts(modelVersions)); degraded rows \(rowsDegraded)") }
        return lines.joined(separator: "\n")
    }

    static func format(_ value: Double, digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }
}
