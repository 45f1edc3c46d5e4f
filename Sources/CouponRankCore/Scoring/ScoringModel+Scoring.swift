#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// Scores and expected click probabilities of one batch, in candidate order.
public struct BatchScores: Sendable {
    public var scores: [Double]
    public var probabilities: [Double]

    public init(scores: [Double] = [], probabilities: [Double] = []) {
        self.scores = scores
        self.probabilities = probabilities
    }
}

extension ScoringModel {
    /// Scores every row of `batch`.
    ///
    /// Works on the batch's structure rather than a dense matrix: with `s` the shared columns and
    /// `r` the per-candidate entries of a row (disjoint columns), `x = s + r`, so
    /// `θ·x = θ·s + θ·r` and `xᵀMx = sᵀMs + rᵀ(2Ms) + rᵀMr` (`M = A⁻¹`). `θ·s`, `sᵀMs` and `2Ms`
    /// are computed once per request; each row then costs `O(m²)` for its `m` entries instead of
    /// `O(d²)`.
    public func score(_ batch: ContextBatch) -> BatchScores {
        var result = BatchScores()
        score(batch, into: &result)
        return result
    }

    /// Scores every row of `batch` into `result`, reusing its storage.
    public func score(_ batch: ContextBatch, into result: inout BatchScores) {
        precondition(batch.dimension == dimension, "context batch built for another schema")
        let n = batch.count
        let d = dimension
        let m = batch.entriesPerRow
        let linucb = kind == .linucb
        let alpha = self.alpha
        result.scores.removeAll(keepingCapacity: true)
        result.probabilities.removeAll(keepingCapacity: true)
        result.scores.reserveCapacity(n)
        result.probabilities.reserveCapacity(n)

        theta.withUnsafeBufferPointer { theta in
            covariance.withUnsafeBufferPointer { covariance in
                batch.shared.withUnsafeBufferPointer { shared in
                    batch.columns.withUnsafeBufferPointer { columns in
                        batch.values.withUnsafeBufferPointer { values in
                            withUnsafeTemporaryAllocation(of: Int.self, capacity: d) { nonZero in
                                var k = 0
                                var sharedLinear = 0.0
                                for j in 0..<d where shared[j] != 0 {
                                    nonZero[k] = j
                                    k += 1
                                    sharedLinear += theta[j] * shared[j]
                                }
                                guard linucb else {
                                    for row in 0..<n {
                                        var linear = sharedLinear
                                        let start = row * m
                                        for e in start..<(start + m) {
                                            linear += theta[Int(columns[e])] * values[e]
                                        }
                                        let p = sigmoid(linear)
                                        result.scores.append(p)
                                        result.probabilities.append(p)
                                    }
                                    return
                                }
                                withUnsafeTemporaryAllocation(of: Double.self, capacity: d) { crossTerm in
                                    // crossTerm = 2·M·s over every column.
                                    for c in 0..<d {
                                        let base = c * d
                                        var acc = 0.0
                                        for t in 0..<k {
                                            let j = nonZero[t]
                                            acc += covariance[base + j] * shared[j]
                                        }
                                        crossTerm[c] = 2 * acc
                                    }
                                    var sharedQuadratic = 0.0
                                    for t in 0..<k {
                                        let j = nonZero[t]
                                        sharedQuadratic += shared[j] * crossTerm[j]
                                    }
                                    sharedQuadratic *= 0.5
                                    for row in 0..<n {
                                        let start = row * m
                                        var linear = sharedLinear
                                        var quadratic = sharedQuadratic
                                        for e in start..<(start + m) {
                                            let ce = Int(columns[e])
                                            let ve = values[e]
                                            linear += theta[ce] * ve
                                            let base = ce * d
                                            var acc = 0.5 * (covariance[base + ce] * ve + crossTerm[ce])
                                            for f in (e + 1)..<(start + m) {
                                                acc += covariance[base + Int(columns[f])] * values[f]
                                            }
                                            quadratic += 2 * ve * acc
                                        }
                                        result.scores.append(linear + alpha * max(quadratic, 0).squareRoot())
                                        result.probabilities.append(min(max(linear, 0), 1))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Reference scoring of a dense `count × dimension` row-major matrix, straight from the
    /// formulas: for tests and the benchmark's comparison, not for the request path.
    public func scoreDense(_ matrix: [Double], count: Int) -> BatchScores {
        precondition(matrix.count == count * dimension)
        let d = dimension
        var result = BatchScores()
        for row in 0..<count {
            let x = matrix[(row * d)..<((row + 1) * d)]
            var linear = 0.0
            for (j, value) in zip(x.indices, x) {
                linear += theta[j - row * d] * value
            }
            switch kind {
            case .logistic:
                let p = sigmoid(linear)
                result.scores.append(p)
                result.probabilities.append(p)
            case .linucb:
                var quadratic = 0.0
                for i in 0..<d {
                    var acc = 0.0
                    for j in 0..<d {
                        acc += covariance[i * d + j] * matrix[row * d + j]
                    }
                    quadratic += matrix[row * d + i] * acc
                }
                result.scores.append(linear + alpha * max(quadratic, 0).squareRoot())
                result.probabilities.append(min(max(linear, 0), 1))
            }
        }
        return result
    }
}

@inline(__always)
func sigmoid(_ z: Double) -> Double {
    if z >= 0 {
        return 1 / (1 + exp(-z))
    }
    let e = exp(z)
    return e / (1 + e)
}
