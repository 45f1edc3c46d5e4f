public import CouponRankUpstreamJSON
import Foundation
import Synchronization

/// One upstream service: its base URL, the shared HTTP client, a bound on calls in flight, a
/// circuit breaker, and the GET-and-decode every adapter does.
public final class UpstreamClient: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// e.g. `http://127.0.0.1:8081`; paths of UPSTREAMS.md are appended.
        public var baseURL: String
        /// Calls in flight beyond which a call fails at once (OVERLOADED source failure).
        public var maximumConcurrentCalls: Int
        public var maximumBodyBytes: Int

        public init(baseURL: String, maximumConcurrentCalls: Int = 256, maximumBodyBytes: Int) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.maximumConcurrentCalls = maximumConcurrentCalls
            self.maximumBodyBytes = maximumBodyBytes
        }
    }

    public let name: String
    public let configuration: Configuration
    public let breaker: CircuitBreaker
    private let http: CurlHTTPClient
    private let inFlight = Atomic<Int>(0)

    public init(name: String, configuration: Configuration, http: CurlHTTPClient, breaker: CircuitBreaker = CircuitBreaker()) {
        self.name = name
        self.configuration = configuration
        self.http = http
        self.breaker = breaker
    }

    /// Calls to this upstream in flight now.
    public var callsInFlight: Int { inFlight.load(ordering: .relaxed) }

    /// GETs `path` by `deadline` and decodes the body with `decode`. Every failure — breaker open,
    /// too many calls, transport, timeout, non-2xx, oversized or undecodable body — is an
    /// ``HTTPError``; refused or broken connections, non-2xx and bad bodies count against the
    /// breaker.
    public func get<T>(
        _ path: String,
        deadline: ContinuousClock.Instant,
        decode: ([UInt8]) throws(JSONError) -> T
    ) async throws(HTTPError) -> T {
        guard breaker.allowCall() else {
            throw HTTPError(.circuitOpen, "\(name): circuit open after repeated failures")
        }
        guard inFlight.add(1, ordering: .relaxed).newValue <= configuration.maximumConcurrentCalls else {
            inFlight.subtract(1, ordering: .relaxed)
            breaker.record(.rejected)
            throw HTTPError(.overloaded, "\(name): \(configuration.maximumConcurrentCalls) calls already in flight")
        }
        defer { inFlight.subtract(1, ordering: .relaxed) }
        let remaining = deadline - .now
        guard remaining > .milliseconds(1) else {
            breaker.record(.timeout)
            throw HTTPError(.timeout, "\(name): no time left in the request's deadline")
        }
        do throws(HTTPError) {
            let response = try await http.get(
                configuration.baseURL + path,
                timeout: remaining,
                maximumBodyBytes: configuration.maximumBodyBytes
            )
            if response.status == 404 {
                throw HTTPError(.notFound, "\(name): HTTP 404 for \(path)")
            }
            guard (200..<300).contains(response.status) else {
                throw HTTPError(.status, "\(name): HTTP \(response.status) for \(path)")
            }
            let decoded: T
            do {
                decoded = try decode(response.body)
            } catch {
                throw HTTPError(.malformed, "\(name): \(path): \(error)")
            }
            breaker.record(.success)
            return decoded
        } catch {
            breaker.record(Self.breakerEvent(error))
            throw error
        }
    }

    /// What a failed call means to the breaker.
    static func breakerEvent(_ error: HTTPError) -> CircuitBreaker.Event {
        switch error.code {
        case .timeout: .timeout
        case .cancelled: .cancelled
        case .notFound: .notFound
        case .overloaded: .rejected
        default: .failure
        }
    }
}

/// Percent-encodes an easy_id for a path segment.
func pathSegment(_ value: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
}
