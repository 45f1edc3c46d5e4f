/// A policy value with its normal-approximation confidence interval (proto-spec/MODEL.md §8).
///
/// With fewer than two terms the standard error is not defined: it is NaN, and so are the bounds.
public struct OffPolicyEstimate: Sendable, Hashable, Codable {
    /// The two-sided 95 % quantile of the standard normal distribution, `Φ⁻¹(0.975)`.
    public static let z95 = 1.959_963_984_540_054

    public var value: Double
    public var standardError: Double
    /// `value − z·standardError`, z = ``z95``.
    public var lower: Double
    /// `value + z·standardError`.
    public var upper: Double

    public init(value: Double, standardError: Double) {
        self.value = value
        self.standardError = standardError
        self.lower = value - Self.z95 * standardError
        self.upper = value + Self.z95 * standardError
    }

    enum CodingKeys: String, CodingKey {
        case value
        case standardError = "standard_error"
        case lower
        case upper
    }

    /// The mean of `terms` with the standard error `s/√n`, `s` the sample standard deviation
    /// (divisor `n − 1`). NaN when `terms` is empty.
    public static func mean(of terms: some Collection<Double>) -> OffPolicyEstimate {
        let count = terms.count
        guard count > 0 else { return OffPolicyEstimate(value: .nan, standardError: .nan) }
        let n = Double(count)
        let mean = terms.reduce(0, +) / n
        guard count > 1 else { return OffPolicyEstimate(value: mean, standardError: .nan) }
        let squaredDeviations = terms.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return OffPolicyEstimate(value: mean, standardError: (squaredDeviations / (n - 1) / n).squareRoot())
    }
}
