/// Accumulates observations `(x, reward)` into the ridge-regression statistics of LinUCB,
/// `A = λI + Σ xxᵀ` and `b = Σ reward·x`, and solves for `θ = A⁻¹b`.
///
/// The sufficient statistics are sums, so accumulators over disjoint shares of the observations
/// ``merge(_:)`` into the accumulator of all of them. `A` is kept and refactorised (Cholesky) when
/// a model is made, rather than `A⁻¹` updated per observation (Sherman–Morrison): an observation
/// then costs `O(m²)` for its `m` non-zero columns instead of `O(d²)`, and `A⁻¹` does not drift.
public struct LinUCBAccumulator: Sendable, Hashable {
    public let dimension: Int
    /// λ of `A = λI + Σ xxᵀ`.
    public let ridge: Double
    public private(set) var a: [Double]
    public private(set) var b: [Double]
    public private(set) var observations = 0

    public init(dimension: Int, ridge: Double = 1) {
        precondition(dimension > 0 && ridge > 0)
        self.dimension = dimension
        self.ridge = ridge
        self.a = [Double](repeating: 0, count: dimension * dimension)
        self.b = [Double](repeating: 0, count: dimension)
        for i in 0..<dimension { a[i * dimension + i] = ridge }
    }

    /// Statistics restored from a checkpoint.
    public init(dimension: Int, ridge: Double, a: [Double], b: [Double], observations: Int) {
        precondition(dimension > 0 && ridge > 0 && a.count == dimension * dimension && b.count == dimension)
        self.dimension = dimension
        self.ridge = ridge
        self.a = a
        self.b = b
        self.observations = observations
    }

    /// Observes row `row` of a context batch built for this dimension.
    public mutating func observe(_ batch: ContextBatch, row: Int, reward: Double) {
        precondition(batch.dimension == dimension && row < batch.count)
        let x = SparseRow(batch, row: row)
        let d = dimension
        a.withUnsafeMutableBufferPointer { a in
            for p in 0..<x.count {
                let i = x.columns[p]
                let xi = x.values[p]
                b[i] += reward * xi
                let base = i * d
                for q in 0..<x.count {
                    a[base + x.columns[q]] += xi * x.values[q]
                }
            }
        }
        observations += 1
    }

    /// Adds the statistics of another share of the observations (the ridge counts once).
    public mutating func merge(_ other: LinUCBAccumulator) {
        precondition(other.dimension == dimension && other.ridge == ridge)
        for index in a.indices { a[index] += other.a[index] }
        for i in 0..<dimension { a[i * dimension + i] -= ridge }
        for index in b.indices { b[index] += other.b[index] }
        observations += other.observations
    }

    public mutating func observe(_ x: [Double], reward: Double) {
        precondition(x.count == dimension)
        let d = dimension
        let nonZero = x.indices.filter { x[$0] != 0 }
        for i in nonZero {
            b[i] += reward * x[i]
            for j in nonZero {
                a[i * d + j] += x[i] * x[j]
            }
        }
        observations += 1
    }

    /// `(θ, A⁻¹)`, with `A⁻¹` exactly symmetric.
    public func solve() throws(ModelError) -> (theta: [Double], aInverse: [Double]) {
        let inverse = try Self.invertSymmetricPositiveDefinite(a, dimension: dimension)
        let d = dimension
        var theta = [Double](repeating: 0, count: d)
        for i in 0..<d {
            var acc = 0.0
            for j in 0..<d { acc += inverse[i * d + j] * b[j] }
            theta[i] = acc
        }
        return (theta, inverse)
    }

    /// Inverse through the Cholesky factorisation `A = LLᵀ`.
    public static func invertSymmetricPositiveDefinite(_ matrix: [Double], dimension d: Int) throws(ModelError) -> [Double] {
        var l = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0...i {
                var sum = matrix[i * d + j]
                for k in 0..<j { sum -= l[i * d + k] * l[j * d + k] }
                if i == j {
                    guard sum > 0 else { throw ModelError("matrix is not positive definite") }
                    l[i * d + i] = sum.squareRoot()
                } else {
                    l[i * d + j] = sum / l[j * d + j]
                }
            }
        }
        // Columns of L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀL⁻¹.
        var lInverse = [Double](repeating: 0, count: d * d)
        for column in 0..<d {
            for i in column..<d {
                var sum = i == column ? 1.0 : 0.0
                for k in column..<i { sum -= l[i * d + k] * lInverse[k * d + column] }
                lInverse[i * d + column] = sum / l[i * d + i]
            }
        }
        var inverse = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0...i {
                var sum = 0.0
                for k in max(i, j)..<d { sum += lInverse[k * d + i] * lInverse[k * d + j] }
                inverse[i * d + j] = sum
                inverse[j * d + i] = sum
            }
        }
        return inverse
    }
}
