public import CouponRankCore
public import NIOCore
import CouponRankWire

/// Trains one model from closed decisions: the base document gives the feature schema, the kind,
/// α and the exploration policy of every model it makes; the statistics are learned
/// (proto-spec/MODEL.md §8).
///
/// - LinUCB keeps `A = λI + Σ xxᵀ` and `b = Σ r·x` over every shown item, and solves
///   `θ = A⁻¹b` with a Cholesky factorisation when a model is made.
/// - Logistic learns by FTRL-Proximal, one step per shown item in slot order.
public struct OnlineLearner: Sendable {
    public enum Statistics: Sendable, Hashable {
        case linucb(LinUCBAccumulator)
        case logistic(FTRLProximal)
    }

    public let base: ModelDefinition
    public let schema: CompiledSchema
    /// Exactly one of the two is set, by the base model's kind; kept apart so that updates
    /// mutate the storage in place.
    private var linucb: LinUCBAccumulator?
    private var ftrl: FTRLProximal?
    public var statistics: Statistics { linucb.map { .linucb($0) } ?? .logistic(ftrl!) }
    /// Closed decisions learned from.
    public private(set) var decisions = 0
    /// Shown items learned from: one update each.
    public private(set) var itemUpdates = 0
    /// Items whose target was a joined reward (a click for the CTR model).
    public private(set) var rewards = 0
    private var batch = ContextBatch()

    /// A learner at the cold start: `A = λI`, `b = 0` (θ = 0, `A⁻¹ = I/λ`), or FTRL at zero.
    public init(base: ModelDefinition, ridge: Double = 1, ftrl: FTRLProximal.Parameters = .init()) throws(ModelError) {
        let schema: CompiledSchema
        do {
            schema = try CompiledSchema(base.features)
        } catch {
            throw ModelError("invalid feature schema: \(error)")
        }
        self.base = base
        self.schema = schema
        switch base.kind {
        case .linucb:
            guard ridge > 0, ridge.isFinite else { throw ModelError("the ridge λ must be positive") }
            linucb = LinUCBAccumulator(dimension: schema.dimension, ridge: ridge)
        case .logistic:
            self.ftrl = FTRLProximal(dimension: schema.dimension, parameters: ftrl)
        }
    }

    /// Learns from every shown item of `closed`, with its contexts rebuilt from the logged inputs.
    public mutating func learn(_ closed: ClosedDecision) {
        let decision = closed.decision
        guard !decision.items.isEmpty else { return }
        let coupons = decision.items.map(\.coupon)
        let stats = CouponStatsTable(couponIDs: coupons.map(\.id), entries: decision.items.map(\.stats))
        schema.makeContexts(user: decision.user, candidates: coupons, stats: stats, into: &batch)
        for row in 0..<batch.count {
            if linucb != nil {
                linucb!.observe(batch, row: row, reward: closed.rewards[row])
            } else {
                ftrl!.observe(batch, row: row, label: min(max(closed.rewards[row], 0), 1))
            }
        }
        decisions += 1
        itemUpdates += batch.count
        rewards += closed.rewarded.lazy.filter { $0 }.count
    }

    /// Adds the statistics another learner gathered from a disjoint share of the decisions.
    /// Only LinUCB's statistics are sums; FTRL's state is path-dependent and does not merge.
    public mutating func merge(_ other: OnlineLearner) throws(ModelError) {
        guard other.schema.dimension == schema.dimension, other.base.kind == base.kind else {
            throw ModelError("cannot merge statistics of another schema or kind")
        }
        guard linucb != nil, let theirs = other.linucb else {
            throw ModelError("logistic (FTRL) statistics do not merge; train a logistic model with one partition")
        }
        guard linucb!.ridge == theirs.ridge else { throw ModelError("cannot merge statistics with another ridge λ") }
        linucb!.merge(theirs)
        decisions += other.decisions
        itemUpdates += other.itemUpdates
        rewards += other.rewards
    }

    /// The model the statistics give now, under `version`.
    public func makeDefinition(version: String, createdAt: String, lineage: ModelLineage?) throws(ModelError) -> ModelDefinition {
        var definition = base
        definition.format = ModelDefinition.currentFormat
        definition.version = version
        definition.createdAt = createdAt
        definition.lineage = lineage
        switch statistics {
        case .linucb(let accumulator):
            let solved = try accumulator.solve()
            definition.theta = solved.theta
            definition.aInverse = solved.aInverse
        case .logistic(let ftrl):
            definition.theta = ftrl.weights
            definition.aInverse = []
        }
        return definition
    }

    // MARK: Checkpoint

    private static let checkpointFormat: UInt8 = 1

    /// The statistics and counters, binary (the trainer's checkpoint, EVENTS.md §6.3).
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(Self.checkpointFormat)
        buffer.writeInteger(UInt32(schema.dimension))
        buffer.writeInteger(UInt64(decisions))
        buffer.writeInteger(UInt64(itemUpdates))
        buffer.writeInteger(UInt64(rewards))
        switch statistics {
        case .linucb(let accumulator):
            buffer.writeInteger(UInt8(0))
            buffer.writeFloat64(accumulator.ridge)
            buffer.writeInteger(UInt64(accumulator.observations))
            for value in accumulator.a { buffer.writeFloat64(value) }
            for value in accumulator.b { buffer.writeFloat64(value) }
        case .logistic(let ftrl):
            buffer.writeInteger(UInt8(1))
            let p = ftrl.parameters
            for value in [p.alpha, p.beta, p.l1, p.l2] { buffer.writeFloat64(value) }
            buffer.writeInteger(UInt64(ftrl.observations))
            for value in ftrl.z { buffer.writeFloat64(value) }
            for value in ftrl.n { buffer.writeFloat64(value) }
        }
    }

    /// A learner restored from ``encode(into:)`` for the same base document.
    public init(base: ModelDefinition, checkpoint buffer: inout ByteBuffer) throws {
        try self.init(base: base)
        guard try buffer.readRequired(UInt8.self, field: "learner format") == Self.checkpointFormat else {
            throw ModelError("the checkpoint's learner format is not \(Self.checkpointFormat)")
        }
        let d = Int(try buffer.readRequired(UInt32.self, field: "dimension"))
        guard d == schema.dimension else {
            throw ModelError("the checkpoint has dimension \(d), the base model \(schema.dimension): it belongs to another schema")
        }
        decisions = Int(try buffer.readRequired(UInt64.self, field: "decisions"))
        itemUpdates = Int(try buffer.readRequired(UInt64.self, field: "item updates"))
        rewards = Int(try buffer.readRequired(UInt64.self, field: "rewards"))
        func doubles(_ count: Int, _ field: String) throws -> [Double] {
            guard buffer.readableBytes >= 8 * count else { throw ModelError("the checkpoint's \(field) is cut short") }
            return try (0..<count).map { _ in try buffer.readFloat64(field: field) }
        }
        switch try buffer.readRequired(UInt8.self, field: "kind") {
        case 0 where base.kind == .linucb:
            let ridge = try buffer.readFloat64(field: "ridge")
            let observations = Int(try buffer.readRequired(UInt64.self, field: "observations"))
            let a = try doubles(d * d, "A")
            let b = try doubles(d, "b")
            guard ridge > 0, a.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else { throw ModelError("the checkpoint's statistics are not finite") }
            linucb = LinUCBAccumulator(dimension: d, ridge: ridge, a: a, b: b, observations: observations)
        case 1 where base.kind == .logistic:
            let p = try doubles(4, "FTRL parameters")
            let observations = Int(try buffer.readRequired(UInt64.self, field: "observations"))
            let z = try doubles(d, "z")
            let n = try doubles(d, "n")
            ftrl = FTRLProximal(dimension: d, parameters: .init(alpha: p[0], beta: p[1], l1: p[2], l2: p[3]), z: z, n: n, observations: observations)
        default:
            throw ModelError("the checkpoint holds statistics of another model kind than the base model's \(base.kind.rawValue)")
        }
    }
}
