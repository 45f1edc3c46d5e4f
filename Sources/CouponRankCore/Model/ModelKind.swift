/// How a model turns a context `x` into a score.
public enum ModelKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// `p = σ(θ·x)`; the score is `p`.
    case logistic
    /// Shared-parameter LinUCB: score `θ·x + α·√(xᵀA⁻¹x)`; expected CTR `clamp(θ·x, 0, 1)`.
    case linucb
}
