public import NIOCore

/// Rank the candidates of one user (PROTOCOL.md §5.1).
public struct RankRequest: WireMessage, Hashable {
    public static let messageType = MessageType.rankRequest

    public var easyID: String
    /// How many coupons to return; 0 asks for the server's default.
    public var topK: UInt16
    /// When non-empty, only these of the user's candidates are ranked.
    public var candidateIDs: [String]
    /// Never returned.
    public var excludedIDs: [String]
    /// Revision 3: the caller's id for this decision; empty asks the server to make one.
    public var eventID: String
    /// Revision 3.
    public var flags: Flags
    /// Revision 4: at most this many returned coupons of one shop; 0 leaves it to the rules.
    public var maximumPerShop: UInt16
    /// Revision 4: at most this many returned coupons of one category; 0 leaves it to the rules.
    public var maximumPerCategory: UInt16

    public struct Flags: OptionSet, Sendable, Hashable {
        public var rawValue: UInt16

        public init(rawValue: UInt16) {
            self.rawValue = rawValue
        }

        /// Rank greedily for this call, without exploration (QA pages, crawlers).
        public static let noExploration = Flags(rawValue: 1 << 0)
    }

    public init(
        easyID: String,
        topK: UInt16 = 0,
        candidateIDs: [String] = [],
        excludedIDs: [String] = [],
        eventID: String = "",
        flags: Flags = [],
        maximumPerShop: UInt16 = 0,
        maximumPerCategory: UInt16 = 0
    ) {
        self.easyID = easyID
        self.topK = topK
        self.candidateIDs = candidateIDs
        self.excludedIDs = excludedIDs
        self.eventID = eventID
        self.flags = flags
        self.maximumPerShop = maximumPerShop
        self.maximumPerCategory = maximumPerCategory
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeString16(easyID)
        buffer.writeInteger(topK)
        buffer.writeInteger(UInt16(candidateIDs.count))
        for id in candidateIDs { buffer.writeString16(id) }
        buffer.writeInteger(UInt16(excludedIDs.count))
        for id in excludedIDs { buffer.writeString16(id) }
        buffer.writeString16(eventID)
        buffer.writeInteger(flags.rawValue)
        buffer.writeInteger(maximumPerShop)
        buffer.writeInteger(maximumPerCategory)
    }

    public init(payload: inout ByteBuffer) throws(WireError) {
        self.easyID = try payload.readString16(field: "easy_id", maximumBytes: WireLimits.maximumEasyIDBytes)
        guard !easyID.isEmpty else { throw WireError(.invalidArgument, "easy_id is empty") }
        self.topK = try payload.readRequired(UInt16.self, field: "top_k")
        guard Int(topK) <= WireLimits.maximumTopK else {
            throw WireError(.invalidArgument, "top_k \(topK) exceeds the limit of \(WireLimits.maximumTopK)")
        }
        self.candidateIDs = try Self.readIDList(&payload, field: "candidate_ids")
        self.excludedIDs = try Self.readIDList(&payload, field: "excluded_ids")
        // A revision 1–2 client ends the payload here.
        self.maximumPerShop = 0
        self.maximumPerCategory = 0
        guard payload.readableBytes > 0 else {
            self.eventID = ""
            self.flags = []
            return
        }
        self.eventID = try payload.readString16(field: "event_id", maximumBytes: WireLimits.maximumEventIDBytes)
        self.flags = Flags(rawValue: try payload.readRequired(UInt16.self, field: "flags"))
        // A revision 3 client ends the payload here.
        guard payload.readableBytes > 0 else { return }
        self.maximumPerShop = try payload.readRequired(UInt16.self, field: "max_per_shop")
        self.maximumPerCategory = try payload.readRequired(UInt16.self, field: "max_per_category")
    }

    private static func readIDList(_ payload: inout ByteBuffer, field: String) throws(WireError) -> [String] {
        let count = Int(try payload.readRequired(UInt16.self, field: "\(field) count"))
        guard count <= WireLimits.maximumListEntries else {
            throw WireError(.invalidArgument, "\(field) has \(count) entries, the limit is \(WireLimits.maximumListEntries)")
        }
        var ids: [String] = []
        ids.reserveCapacity(count)
        for _ in 0..<count {
            ids.append(try payload.readString16(field: "\(field) entry", maximumBytes: WireLimits.maximumCouponIDBytes))
        }
        return ids
    }
}
