import Synchronization

/// The upstreams of one engine: one shared curl multi client, one ``UpstreamClient`` per service.
public final class UpstreamSet: Sendable {
    /// Body limits of UPSTREAMS.md §5.
    public enum Service: Sendable {
        case userFeatures, coupons, stats

        public var maximumBodyBytes: Int {
            switch self {
            case .userFeatures: 64 << 10
            case .coupons: 2 << 20
            case .stats: 1 << 20
            }
        }
    }

    public let http: CurlHTTPClient
    public let maximumConcurrentCalls: Int
    private let clients = Mutex<[UpstreamClient]>([])

    public init(http: CurlHTTPClient = CurlHTTPClient(), maximumConcurrentCalls: Int = 256) {
        self.http = http
        self.maximumConcurrentCalls = maximumConcurrentCalls
    }

    /// `upstream.<name>` and its breaker state, for each client made here.
    public var breakerStates: [(name: String, state: String)] {
        clients.withLock { $0.map { ("upstream.\($0.name)", $0.breaker.state.rawValue) } }
    }

    public func client(_ name: String, _ baseURL: String, _ service: Service) -> UpstreamClient {
        let client = UpstreamClient(
            name: name,
            configuration: .init(
                baseURL: baseURL,
                maximumConcurrentCalls: maximumConcurrentCalls,
                maximumBodyBytes: service.maximumBodyBytes
            ),
            http: http
        )
        clients.withLock { $0.append(client) }
        return client
    }
}
