/// The limits of PROTOCOL.md §6.
public struct WireLimits: Sendable, Hashable {
    /// Largest length-prefix value accepted (bytes after the prefix). Default 1 MiB.
    public var maximumFrameSize: Int
    public static let maximumEasyIDBytes = 128
    public static let maximumCouponIDBytes = 64
    /// Entries in a request's candidate or exclusion list.
    public static let maximumListEntries = 1000
    public static let maximumTopK = 1000
    /// A caller-chosen event id (revision 3).
    public static let maximumEventIDBytes = 64

    public init(maximumFrameSize: Int = 1 << 20) {
        precondition(maximumFrameSize >= FrameHeader.size && maximumFrameSize <= Int(UInt32.max))
        self.maximumFrameSize = maximumFrameSize
    }
}
