import Foundation

/// Writes evaluated rows as Open Bandit Pipeline bandit feedback, JSON, one row at a time, so
/// that an independent implementation (obp's `InverseProbabilityWeighting`,
/// `SelfNormalizedInverseProbabilityWeighting`, `DoublyRobust`) can recompute the estimates
/// (proto-spec/MODEL.md §8.5; `Tests/CouponRankTrainingTests/Reference/obp_check.py` does).
///
/// ```
/// {"format": "couponrank-ope-rows/1",
///  "rows": [
///   {"decision": 0, "slot": 1, "reward": 1.0, "pscore": 0.1, "action": 2, "position": 0,
///    "action_dist": [0.9, 0.05, 0.05], "estimated_rewards_by_reg_model": [0.3, 0.2, 0.1]},
///   …],
///  "n_rounds": 2914, "n_actions": 200, "len_list": 1,
///  "evaluation": { …the summary of `couponrank evaluate --json`… }}
/// ```
///
/// A row's arrays run over its remaining set `R` in the target's greedy order, unpadded: a
/// reader pads them with zeros to `n_actions` (the largest `|R|`, known only at the end of a
/// stream) to get obp's `(n_rounds, n_actions, len_list)` arrays. `action` indexes them.
public struct BanditFeedbackWriter {
    private let write: (String) throws -> Void
    private var rows = 0
    private var actions = 0
    private var buffer = ""

    /// Starts the document; every piece of text goes to `write`, in order.
    public init(write: @escaping (String) throws -> Void) throws {
        self.write = write
        try write("{\"format\": \"couponrank-ope-rows/1\",\n\"rows\": [\n")
    }

    public mutating func append(_ row: OffPolicyRow, _ distribution: OffPolicyRowDistribution) throws {
        if rows > 0 { buffer += ",\n" }
        rows += 1
        actions = max(actions, distribution.targetProbabilities.count)
        buffer += "{\"decision\": \(row.decision), \"slot\": \(row.slot), \"reward\": \(Self.number(row.reward)), "
        buffer += "\"pscore\": \(Self.number(row.propensity)), \"action\": \(distribution.action), \"position\": 0, "
        buffer += "\"action_dist\": ["
        Self.appendNumbers(distribution.targetProbabilities, to: &buffer)
        buffer += "], \"estimated_rewards_by_reg_model\": ["
        Self.appendNumbers(distribution.estimatedRewards, to: &buffer)
        buffer += "]}"
        if buffer.utf8.count >= 1 << 16 {
            try write(buffer)
            buffer = ""
        }
    }

    /// Ends the document with the counts and the evaluation the rows came from.
    public mutating func finish(_ evaluation: OffPolicyEvaluation) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let summary = String(decoding: try encoder.encode(evaluation.summary), as: UTF8.self)
        buffer += "\n],\n\"n_rounds\": \(rows), \"n_actions\": \(actions), \"len_list\": 1,\n\"evaluation\": \(summary)}\n"
        try write(buffer)
        buffer = ""
    }

    /// Swift prints the shortest text that reads back as the same binary64, which JSON accepts;
    /// `null` for a value JSON cannot hold.
    private static func number(_ value: Double) -> String {
        value.isFinite ? "\(value)" : "null"
    }

    private static func appendNumbers(_ values: [Double], to text: inout String) {
        for (index, value) in values.enumerated() {
            if index > 0 { text += ", " }
            text += number(value)
        }
    }
}

extension OffPolicyEvaluator {
    /// Evaluates `decisions` and returns the evaluation with its rows as bandit feedback JSON
    /// (``BanditFeedbackWriter``), in memory.
    public func banditFeedback(for decisions: some Sequence<ClosedDecision>) -> (evaluation: OffPolicyEvaluation, json: String) {
        var text = ""
        // Writing to a string cannot fail.
        var writer = try! BanditFeedbackWriter { text += $0 }
        var accumulator = makeAccumulator()
        for decision in decisions {
            try! accumulator.add(decision) { row, distribution in try writer.append(row, distribution) }
        }
        let evaluation = accumulator.finish()
        try! writer.finish(evaluation)
        return (evaluation, text)
    }
}
