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
            breaker.recordSuccess()  // not the upstream's fault; do not hold a half-open probe
            throw HTTPError(.overloaded, "\(name): \(configuration.maximumConcurrentCalls) calls already in flight")
        }
        defer { inFlight.subtract(1, ordering: .relaxed) }
        let remaining = deadline - .now
        guard remaining > .milliseconds(1) else {
            throw HTTPError(.timeout, "\(name): no time left in the request's deadline")
        }
        do throws(HTTPError) {
            let response = try await http.get(
                configuration.baseURL + path,
                timeout: remaining,
                maximumBodyBytes: configuration.maximumBodyBytes
            )
            guard (200..<300).contains(response.status) else {
                throw HTTPError(.status, "\(name): HTTP \(response.status) for \(path)")
            }
            let decoded: T
            do {
                decoded = try decode(response.body)
            } catch {
                throw HTTPError(.malformed, "\(name): \(path): \(error)")
            }
            breaker.recordSuccess()
            return decoded
        } catch {
            // Timeouts do not count: each already costs a rank no more than its deadline, and
            // under overload they come from our own queueing as much as from the upstream — a
            // breaker opened by them cut the candidate service off entirely in make poc.
            if error.code != .cancelled && error.code != .timeout { breaker.recordFailure() }
            throw error
        }
    }
}

/// Percent-encodes an easy_id for a path segment.
func pathSegment(_ value: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
}
