/// How a model's ranking explores (proto-spec/MODEL.md §3.1): which coupons it shows besides the
/// best-scored ones, so that logged decisions can train and evaluate other policies.
public enum ExplorationPolicy: Sendable, Hashable, CustomStringConvertible {
    /// The best-scored coupons, in score order; every propensity is 1.
    case greedy
    /// Per slot: with probability `1 − ε` the best remaining coupon, with `ε` a uniformly chosen one.
    case epsilonGreedy(epsilon: Double)
    /// Plackett–Luce over `exp(score / temperature)`: each slot draws from the remaining coupons.
    case softmax(temperature: Double)

    /// The name in the model document and the decision log.
    public var name: String {
        switch self {
        case .greedy: "greedy"
        case .epsilonGreedy: "epsilon_greedy"
        case .softmax: "softmax"
        }
    }

    /// The decision log's code (proto-spec/EVENTS.md).
    public var code: UInt8 {
        switch self {
        case .greedy: 0
        case .epsilonGreedy: 1
        case .softmax: 2
        }
    }

    /// ε or the temperature; 0 for greedy.
    public var parameter: Double {
        switch self {
        case .greedy: 0
        case .epsilonGreedy(let epsilon): epsilon
        case .softmax(let temperature): temperature
        }
    }

    public var explores: Bool { self != .greedy }

    /// The policy of a code and parameter, validated.
    public init(code: UInt8, parameter: Double) throws(ModelError) {
        switch code {
        case 0: self = .greedy
        case 1: self = .epsilonGreedy(epsilon: parameter)
        case 2: self = .softmax(temperature: parameter)
        default: throw ModelError("exploration policy code \(code) is unknown")
        }
        try validate()
    }

    /// Throws when the parameter is outside its range.
    public func validate() throws(ModelError) {
        switch self {
        case .greedy:
            break
        case .epsilonGreedy(let epsilon):
            guard epsilon.isFinite, (0...1).contains(epsilon) else {
                throw ModelError("exploration epsilon must be in 0...1, got \(epsilon)")
            }
        case .softmax(let temperature):
            guard temperature.isFinite, temperature > 0 else {
                throw ModelError("exploration temperature must be finite and positive, got \(temperature)")
            }
        }
    }

    public var description: String {
        switch self {
        case .greedy: "greedy"
        case .epsilonGreedy(let epsilon): "epsilon_greedy(epsilon=\(epsilon))"
        case .softmax(let temperature): "softmax(temperature=\(temperature))"
        }
    }
}

extension ExplorationPolicy: Codable {
    enum CodingKeys: String, CodingKey {
        case policy, epsilon, temperature
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .policy)
        switch name {
        case "greedy":
            self = .greedy
        case "epsilon_greedy":
            self = .epsilonGreedy(epsilon: try container.decode(Double.self, forKey: .epsilon))
        case "softmax":
            self = .softmax(temperature: try container.decode(Double.self, forKey: .temperature))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .policy,
                in: container,
                debugDescription: "exploration policy '\(name)' is not greedy, epsilon_greedy or softmax"
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .policy)
        switch self {
        case .greedy: break
        case .epsilonGreedy(let epsilon): try container.encode(epsilon, forKey: .epsilon)
        case .softmax(let temperature): try container.encode(temperature, forKey: .temperature)
        }
    }
}
