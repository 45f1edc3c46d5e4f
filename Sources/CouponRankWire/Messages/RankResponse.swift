public import NIOCore

/// The ranked coupons of one user (PROTOCOL.md §5.2).
public struct RankResponse: WireMessage, Hashable {
    public static let messageType = MessageType.rankResponse

    public struct Item: Sendable, Hashable {
        public var couponID: String
        public var score: Double
        /// Expected click-through probability.
        public var probability: Double
        public var name: String

        public init(couponID: String, score: Double, probability: Double, name: String) {
            self.couponID = couponID
            self.score = score
            self.probability = probability
            self.name = name
        }
    }

    /// Bit set of sources answered from defaults.
    public struct Degraded: OptionSet, Sendable, Hashable {
        public var rawValue: UInt8

        public init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        public static let userFeatures = Degraded(rawValue: 1 << 0)
        public static let stats = Degraded(rawValue: 1 << 1)

        public var names: [String] {
            var names: [String] = []
            if contains(.userFeatures) { names.append("user_features") }
            if contains(.stats) { names.append("stats") }
            return names
        }
    }

    /// Server-side stage durations in microseconds.
    public struct Timings: Sendable, Hashable {
        public var fetchMicros: UInt32
        public var contextMicros: UInt32
        public var scoreMicros: UInt32
        public var totalMicros: UInt32

        public init(fetchMicros: UInt32 = 0, contextMicros: UInt32 = 0, scoreMicros: UInt32 = 0, totalMicros: UInt32 = 0) {
            self.fetchMicros = fetchMicros
            self.contextMicros = contextMicros
            self.scoreMicros = scoreMicros
            self.totalMicros = totalMicros
        }
    }

    public var modelVersion: String
    public var degraded: Degraded
    public var timings: Timings
    public var items: [Item]

    public init(modelVersion: String, degraded: Degraded = [], timings: Timings = .init(), items: [Item]) {
        self.modelVersion = modelVersion
        self.degraded = degraded
        self.timings = timings
        self.items = items
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeString16(modelVersion)
        buffer.writeInteger(degraded.rawValue)
        buffer.writeInteger(timings.fetchMicros)
        buffer.writeInteger(timings.contextMicros)
        buffer.writeInteger(timings.scoreMicros)
        buffer.writeInteger(timings.totalMicros)
        buffer.writeInteger(UInt16(items.count))
        for item in items {
            buffer.writeString16(item.couponID)
            buffer.writeFloat64(item.score)
            buffer.writeFloat64(item.probability)
            buffer.writeString16(item.name)
        }
    }

    public init(payload: inout ByteBuffer) throws(WireError) {
        self.modelVersion = try payload.readString16(field: "model_version")
        self.degraded = Degraded(rawValue: try payload.readRequired(UInt8.self, field: "degraded"))
        self.timings = Timings(
            fetchMicros: try payload.readRequired(UInt32.self, field: "fetch_us"),
            contextMicros: try payload.readRequired(UInt32.self, field: "context_us"),
            scoreMicros: try payload.readRequired(UInt32.self, field: "score_us"),
            totalMicros: try payload.readRequired(UInt32.self, field: "total_us")
        )
        let count = Int(try payload.readRequired(UInt16.self, field: "item count"))
        var items: [Item] = []
        items.reserveCapacity(count)
        for _ in 0..<count {
            items.append(
                Item(
                    couponID: try payload.readString16(field: "coupon_id"),
                    score: try payload.readFloat64(field: "score"),
                    probability: try payload.readFloat64(field: "probability"),
                    name: try payload.readString16(field: "name")
                )
            )
        }
        self.items = items
    }
}
