#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// Online logistic regression by FTRL-Proximal (McMahan et al., "Ad Click Prediction: a View from
/// the Trenches", KDD 2013), per coordinate: the weights are a closed form of the accumulated
/// gradients `z` and squared gradients `n`, with L1 and L2 regularisation.
public struct FTRLProximal: Sendable, Hashable {
    public struct Parameters: Sendable, Hashable, Codable {
        /// Per-coordinate learning rate `α / (β + √n)`.
        public var alpha: Double
        public var beta: Double
        public var l1: Double
        public var l2: Double

        public init(alpha: Double = 0.1, beta: Double = 1, l1: Double = 0, l2: Double = 1) {
            self.alpha = alpha
            self.beta = beta
            self.l1 = l1
            self.l2 = l2
        }
    }

    public let dimension: Int
    public let parameters: Parameters
    public private(set) var z: [Double]
    public private(set) var n: [Double]
    public private(set) var observations = 0

    public init(dimension: Int, parameters: Parameters = .init()) {
        precondition(dimension > 0 && parameters.alpha > 0 && parameters.beta >= 0 && parameters.l1 >= 0 && parameters.l2 >= 0)
        self.dimension = dimension
        self.parameters = parameters
        self.z = Array(repeating: 0, count: dimension)
        self.n = Array(repeating: 0, count: dimension)
    }

    /// State restored from a checkpoint.
    public init(dimension: Int, parameters: Parameters, z: [Double], n: [Double], observations: Int) {
        precondition(z.count == dimension && n.count == dimension)
        self.dimension = dimension
        self.parameters = parameters
        self.z = z
        self.n = n
        self.observations = observations
    }

    /// The weight of coordinate `i`.
    @inline(__always)
    public func weight(_ i: Int) -> Double {
        let zi = z[i]
        guard abs(zi) > parameters.l1 else { return 0 }
        let sign: Double = zi < 0 ? -1 : 1
        return -(zi - sign * parameters.l1) / ((parameters.beta + n[i].squareRoot()) / parameters.alpha + parameters.l2)
    }

    /// Every weight: θ of the logistic model.
    public var weights: [Double] { (0..<dimension).map(weight) }

    /// One step on row `row` of `batch` with label `y` in [0, 1].
    public mutating func observe(_ batch: ContextBatch, row: Int, label y: Double) {
        precondition(batch.dimension == dimension && row < batch.count)
        let x = SparseRow(batch, row: row)
        var w = [Double](repeating: 0, count: x.count)
        var margin = 0.0
        for p in 0..<x.count {
            w[p] = weight(x.columns[p])
            margin += w[p] * x.values[p]
        }
        let probability = margin >= 0 ? 1 / (1 + exp(-margin)) : exp(margin) / (1 + exp(margin))
        let error = probability - y
        for p in 0..<x.count {
            let i = x.columns[p]
            let g = error * x.values[p]
            let sigma = ((n[i] + g * g).squareRoot() - n[i].squareRoot()) / parameters.alpha
            z[i] += g - sigma * w[p]
            n[i] += g * g
        }
        observations += 1
    }
}
