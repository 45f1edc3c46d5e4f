public import CouponRankCore
public import CouponRankEngine
public import NIOCore
public import CouponRankWire

/// One decision as the decision log holds it (proto-spec/EVENTS.md §2): enough to rebuild the
/// shown coupons' contexts and check their propensities without calling the upstreams again.
public struct LoggedDecision: Sendable, Hashable {
    public struct Item: Sendable, Hashable {
        public var coupon: Coupon
        public var score: Double
        public var probability: Double
        public var propensity: Double
        public var choice: SlotChoice
        public var stats: CouponStats

        public init(coupon: Coupon, score: Double, probability: Double, propensity: Double, choice: SlotChoice, stats: CouponStats) {
            self.coupon = coupon
            self.score = score
            self.probability = probability
            self.propensity = propensity
            self.choice = choice
            self.stats = stats
        }
    }

    /// An eligible coupon that was not shown (EVENTS.md §2.1, the `candidates` field).
    public struct Candidate: Sendable, Hashable {
        public var coupon: Coupon
        public var stats: CouponStats

        public init(coupon: Coupon, stats: CouponStats) {
            self.coupon = coupon
            self.stats = stats
        }
    }

    public static let format: UInt8 = 1

    public var eventID: String
    public var unixMillis: Int64
    public var easyID: String
    public var modelVersion: String
    public var policy: ExplorationPolicy
    /// Not in the record: derived from the event id and model version (MODEL.md §3.1).
    public var seed: UInt64 { PolicyRandom.seed(eventID: eventID, modelVersion: modelVersion) }
    public var degraded: UInt8
    public var eligible: Int
    public var scoreMax: Double
    public var normalizer: Double
    public var user: UserFeatures
    public var items: [Item]
    /// The eligible coupons that were not shown, when the entry carried them; with ``items`` they
    /// are the whole set the policy chose from, which off-policy evaluation needs.
    public var candidates: [Candidate]?
    /// The rules that filtered the candidates (the entry's `rules` field, EVENTS.md §2.6): `nil`
    /// when no rules applied.
    public var rules: AppliedRules?

    /// A rules version and what each of its rules removed.
    public struct AppliedRules: Sendable, Hashable {
        public var version: String
        public var removals: [RuleRemoval]

        public init(version: String, removals: [RuleRemoval]) {
            self.version = version
            self.removals = removals
        }
    }

    public init(
        eventID: String,
        unixMillis: Int64,
        easyID: String,
        modelVersion: String,
        policy: ExplorationPolicy,
        degraded: UInt8,
        eligible: Int,
        scoreMax: Double,
        normalizer: Double,
        user: UserFeatures,
        items: [Item],
        candidates: [Candidate]? = nil
    ) {
        self.eventID = eventID
        self.unixMillis = unixMillis
        self.easyID = easyID
        self.modelVersion = modelVersion
        self.policy = policy
        self.degraded = degraded
        self.eligible = eligible
        self.scoreMax = scoreMax
        self.normalizer = normalizer
        self.user = user
        self.items = items
        self.candidates = candidates
    }

    /// The record of an engine decision; with `includingCandidates`, also every eligible
    /// coupon that was not shown (``candidates``, in greedy order).
    public init(_ decision: Decision, includingCandidates: Bool = false) {
        let exploration = decision.exploration
        self.init(
            eventID: decision.eventID,
            unixMillis: decision.unixMillis,
            easyID: decision.easyID,
            modelVersion: decision.modelVersion,
            policy: exploration.policy,
            degraded: decision.degraded.rawValue,
            eligible: exploration.eligible,
            scoreMax: exploration.scoreMax,
            normalizer: exploration.normalizer,
            user: decision.user,
            items: []
        )
        let candidates = decision.candidates
        let stats = decision.stats
        items = exploration.ranked.map { shown in
            let index = candidates.indices.contains(shown.candidateIndex) && candidates[shown.candidateIndex].id == shown.id
                ? shown.candidateIndex : candidates.firstIndex { $0.id == shown.id }!
            // Sources list statistics in candidate order, so the same position usually holds them.
            let aligned = stats.couponIDs.indices.contains(index) && stats.couponIDs[index] == shown.id
            return Item(
                coupon: candidates[index],
                score: shown.score,
                probability: shown.probability,
                propensity: shown.propensity,
                choice: shown.choice,
                stats: aligned ? stats.entries[index] : stats[shown.id]
            )
        }
        if includingCandidates {
            self.candidates = Self.unshownCandidates(of: decision)
        }
        if !decision.rulesVersion.isEmpty {
            self.rules = AppliedRules(version: decision.rulesVersion, removals: decision.ruleRemovals)
        }
    }

    /// The eligible coupons of `decision` that were not shown, each coupon id once, in greedy
    /// order (descending score, ties by id), at most 65 535: with the shown ones, the set the
    /// policy chose from.
    static func unshownCandidates(of decision: Decision) -> [Candidate] {
        let coupons = decision.candidates
        let shown = Set(decision.ranked.map(\.id))
        guard coupons.count > shown.count else { return [] }
        let stats = decision.stats.aligned(with: coupons)
        var unshown: [Candidate] = []
        unshown.reserveCapacity(min(coupons.count - shown.count, Self.maximumCandidates))
        for ranked in decision.fullRanking() where !shown.contains(ranked.id) {
            unshown.append(Candidate(coupon: coupons[ranked.candidateIndex], stats: stats[ranked.candidateIndex]))
            if unshown.count == Self.maximumCandidates { break }
        }
        return unshown
    }

    /// The most candidates a `candidates` field holds (its count is a `u16`).
    public static let maximumCandidates = Int(UInt16.max)

    /// The body of the stream entry (EVENTS.md §2.2). Scores and probabilities are kept as
    /// binary32: they are informational, and replay recomputes them from the inputs.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(Self.format)
        buffer.writeString16(eventID)
        buffer.writeInteger(UInt64(bitPattern: unixMillis))
        buffer.writeString16(easyID)
        buffer.writeString16(modelVersion)
        buffer.writeInteger(policy.code)
        buffer.writeFloat64(policy.parameter)
        buffer.writeInteger(degraded)
        buffer.writeInteger(UInt32(clamping: eligible))
        if case .softmax = policy {
            buffer.writeFloat64(scoreMax)
            buffer.writeFloat64(normalizer)
        }
        Self.writePairs(user.numeric, into: &buffer) { $0.writeFloat64($1) }
        Self.writePairs(user.categorical, into: &buffer) { $0.writeString16($1) }
        buffer.writeInteger(UInt16(items.count))
        for item in items {
            let coupon = item.coupon
            buffer.writeString16(coupon.id)
            buffer.writeInteger(Float(item.score).bitPattern)
            buffer.writeInteger(Float(item.probability).bitPattern)
            buffer.writeFloat64(item.propensity)
            buffer.writeInteger(item.choice.rawValue)
            Self.writeInputs(of: coupon, stats: item.stats, into: &buffer)
        }
    }

    /// The format byte of the `candidates` field (EVENTS.md §2.5).
    public static let candidatesFormat: UInt8 = 1

    /// The value of the entry's `candidates` field (EVENTS.md §2.5): format 1, then a
    /// `list<candidate>`, each an item's layout without score, probability, propensity and
    /// choice. More than 65 535 candidates are cut to the first 65 535.
    public static func encodeCandidates(_ candidates: [Candidate], into buffer: inout ByteBuffer) {
        buffer.writeInteger(candidatesFormat)
        let written = candidates.prefix(maximumCandidates)
        buffer.writeInteger(UInt16(written.count))
        for candidate in written {
            buffer.writeString16(candidate.coupon.id)
            writeInputs(of: candidate.coupon, stats: candidate.stats, into: &buffer)
        }
    }

    /// Reads a `candidates` field written by ``encodeCandidates(_:into:)``, all of it. A failure
    /// names the field: `candidates: …`.
    public static func decodeCandidates(_ buffer: inout ByteBuffer) throws(WireError) -> [Candidate] {
        do throws(WireError) {
            let format = try buffer.readRequired(UInt8.self, field: "format")
            guard format == candidatesFormat else {
                throw WireError(.unsupportedVersion, "format \(format) is not supported (this reader knows \(candidatesFormat))")
            }
            let count = Int(try buffer.readRequired(UInt16.self, field: "candidate count"))
            var candidates: [Candidate] = []
            candidates.reserveCapacity(count)
            for _ in 0..<count {
                let id = try buffer.readString16(field: "coupon_id")
                let (coupon, stats) = try readInputs(id: id, from: &buffer)
                candidates.append(Candidate(coupon: coupon, stats: stats))
            }
            guard buffer.readableBytes == 0 else {
                throw WireError(.malformedPayload, "\(buffer.readableBytes) bytes after \(count) candidates")
            }
            return candidates
        } catch {
            throw WireError(error.code, "candidates: \(error.message)")
        }
    }

    /// The format byte of the `rules` field (EVENTS.md §2.6).
    public static let rulesFormat: UInt8 = 1

    /// The value of the entry's `rules` field (EVENTS.md §2.6): format 1, the rules version as a
    /// `str16`, then a `list<(str16 rule, u32 removed)>`.
    public static func encodeRules(_ rules: AppliedRules, into buffer: inout ByteBuffer) {
        buffer.writeInteger(rulesFormat)
        buffer.writeString16(rules.version)
        let written = rules.removals.prefix(Int(UInt16.max))
        buffer.writeInteger(UInt16(written.count))
        for removal in written {
            buffer.writeString16(removal.rule)
            buffer.writeInteger(UInt32(clamping: removal.removed))
        }
    }

    /// Reads a `rules` field written by ``encodeRules(_:into:)``, all of it.
    public static func decodeRules(_ buffer: inout ByteBuffer) throws(WireError) -> AppliedRules {
        do throws(WireError) {
            let format = try buffer.readRequired(UInt8.self, field: "format")
            guard format == rulesFormat else {
                throw WireError(.unsupportedVersion, "format \(format) is not supported (this reader knows \(rulesFormat))")
            }
            let version = try buffer.readString16(field: "rules_version")
            let count = Int(try buffer.readRequired(UInt16.self, field: "removal count"))
            var removals: [RuleRemoval] = []
            removals.reserveCapacity(count)
            for _ in 0..<count {
                removals.append(RuleRemoval(rule: try buffer.readString16(field: "rule"), removed: Int(try buffer.readRequired(UInt32.self, field: "removed"))))
            }
            guard buffer.readableBytes == 0 else {
                throw WireError(.malformedPayload, "\(buffer.readableBytes) bytes after \(count) removals")
            }
            return AppliedRules(version: version, removals: removals)
        } catch {
            throw WireError(error.code, "rules: \(error.message)")
        }
    }

    /// An item's or candidate's coupon from `category` to `cvr`: what rebuilds its context.
    private static func writeInputs(of coupon: Coupon, stats: CouponStats, into buffer: inout ByteBuffer) {
        buffer.writeString16(coupon.category)
        buffer.writeString16(coupon.shop)
        buffer.writeFloat64(coupon.discountRate)
        buffer.writeFloat64(coupon.minimumSpend)
        buffer.writeFloat64(coupon.daysToExpiry)
        writePairs(coupon.numericAttributes, into: &buffer) { $0.writeFloat64($1) }
        writePairs(coupon.labels, into: &buffer) { $0.writeString16($1) }
        buffer.writeFloat64(stats.ctr)
        buffer.writeFloat64(stats.cvr)
    }

    private static func readInputs(id: String, from body: inout ByteBuffer) throws(WireError) -> (Coupon, CouponStats) {
        let category = try body.readString16(field: "category")
        let shop = try body.readString16(field: "shop")
        let discountRate = try body.readFloat64(field: "discount_rate")
        let minimumSpend = try body.readFloat64(field: "min_spend")
        let daysToExpiry = try body.readFloat64(field: "days_to_expiry")
        let attributes = try readPairs(&body, field: "attributes") { (b: inout ByteBuffer) throws(WireError) in try b.readFloat64(field: "value") }
        let labels = try readPairs(&body, field: "labels") { (b: inout ByteBuffer) throws(WireError) in try b.readString16(field: "value") }
        let stats = CouponStats(ctr: try body.readFloat64(field: "ctr"), cvr: try body.readFloat64(field: "cvr"))
        let coupon = Coupon(
            id: id,
            name: "",
            category: category,
            shop: shop,
            discountRate: discountRate,
            minimumSpend: minimumSpend,
            daysToExpiry: daysToExpiry,
            numericAttributes: attributes,
            labels: labels
        )
        return (coupon, stats)
    }

    /// Reads a body written by ``encode(into:)``.
    public init(body: inout ByteBuffer) throws(WireError) {
        let format = try body.readRequired(UInt8.self, field: "format")
        guard format == Self.format else {
            throw WireError(.unsupportedVersion, "decision record format \(format) is not supported (this reader knows \(Self.format))")
        }
        let eventID = try body.readString16(field: "event_id")
        let unixMillis = Int64(bitPattern: try body.readRequired(UInt64.self, field: "time_ms"))
        let easyID = try body.readString16(field: "easy_id")
        let modelVersion = try body.readString16(field: "model_version")
        let code = try body.readRequired(UInt8.self, field: "policy")
        let parameter = try body.readFloat64(field: "policy_parameter")
        let policy: ExplorationPolicy
        do {
            policy = try ExplorationPolicy(code: code, parameter: parameter)
        } catch {
            throw WireError(.malformedPayload, "policy: \(error)")
        }
        let degraded = try body.readRequired(UInt8.self, field: "degraded")
        let eligible = Int(try body.readRequired(UInt32.self, field: "eligible"))
        var scoreMax = 0.0
        var normalizer = 0.0
        if case .softmax = policy {
            scoreMax = try body.readFloat64(field: "score_max")
            normalizer = try body.readFloat64(field: "normalizer")
        }
        let numeric = try Self.readPairs(&body, field: "user_numeric") { (b: inout ByteBuffer) throws(WireError) in try b.readFloat64(field: "value") }
        let categorical = try Self.readPairs(&body, field: "user_categorical") { (b: inout ByteBuffer) throws(WireError) in try b.readString16(field: "value") }
        let count = Int(try body.readRequired(UInt16.self, field: "item count"))
        var items: [Item] = []
        items.reserveCapacity(count)
        for _ in 0..<count {
            let id = try body.readString16(field: "coupon_id")
            let score = Double(Float(bitPattern: try body.readRequired(UInt32.self, field: "score")))
            let probability = Double(Float(bitPattern: try body.readRequired(UInt32.self, field: "probability")))
            let propensity = try body.readFloat64(field: "propensity")
            let choice = SlotChoice(rawValue: try body.readRequired(UInt8.self, field: "choice"))
            let (coupon, stats) = try Self.readInputs(id: id, from: &body)
            items.append(Item(coupon: coupon, score: score, probability: probability, propensity: propensity, choice: choice, stats: stats))
        }
        self.init(
            eventID: eventID,
            unixMillis: unixMillis,
            easyID: easyID,
            modelVersion: modelVersion,
            policy: policy,
            degraded: degraded,
            eligible: eligible,
            scoreMax: scoreMax,
            normalizer: normalizer,
            user: UserFeatures(numeric: numeric, categorical: categorical),
            items: items
        )
    }

    /// `list<(str16 name, value)>`, sorted by name so that equal inputs give equal bytes.
    private static func writePairs<Value>(_ pairs: [String: Value], into buffer: inout ByteBuffer, value write: (inout ByteBuffer, Value) -> Void) {
        buffer.writeInteger(UInt16(clamping: pairs.count))
        for (name, value) in pairs.sorted(by: { $0.key < $1.key }).prefix(Int(UInt16.max)) {
            buffer.writeString16(name)
            write(&buffer, value)
        }
    }

    private static func readPairs<Value>(
        _ buffer: inout ByteBuffer,
        field: String,
        value read: (inout ByteBuffer) throws(WireError) -> Value
    ) throws(WireError) -> [String: Value] {
        let count = Int(try buffer.readRequired(UInt16.self, field: "\(field) count"))
        var pairs: [String: Value] = [:]
        for _ in 0..<count {
            let name = try buffer.readString16(field: "\(field) name")
            pairs[name] = try read(&buffer)
        }
        return pairs
    }
}
