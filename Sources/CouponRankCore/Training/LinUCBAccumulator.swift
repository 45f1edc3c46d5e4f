/// Accumulates observations `(x, reward)` into the ridge-regression statistics of LinUCB,
/// `A = λI + Σ xxᵀ` and `b = Σ reward·x`, and solves for `θ = A⁻¹b`.
///
/// The engine only scores; this reference trainer is what the bundled model and the tests use to
/// produce parameters with a real, non-diagonal `A⁻¹`.
public struct LinUCBAccumulator: Sendable {
    public let dimension: Int
    public private(set) var a: [Double]
    public private(set) var b: [Double]
    public private(set) var observations = 0

    public init(dimension: Int, ridge: Double = 1) {
        precondition(dimension > 0 && ridge > 0)
        self.dimension = dimension
        self.a = [Double](repeating: 0, count: dimension * dimension)
        self.b = [Double](repeating: 0, count: dimension)
        for i in 0..<dimension { a[i * dimension + i] = ridge }
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
