import CCurl
import CouponRankCore
import Foundation
public import ServiceLifecycle
import Synchronization

/// An HTTP client on one curl multi handle, driven by one dedicated thread: no thread per
/// request. Connections are cached by the multi handle and reused; HTTP/2 is negotiated where the
/// upstream offers it (TLS ALPN) and multiplexed.
public final class CurlHTTPClient: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Open connections per host (curl's `CURLMOPT_MAX_HOST_CONNECTIONS`).
        public var maximumConnectionsPerHost: Int
        /// Idle connections kept open for reuse, over all hosts.
        public var maximumCachedConnections: Int
        /// Longest connect, within each call's own timeout.
        public var connectTimeout: Duration

        public init(maximumConnectionsPerHost: Int = 64, maximumCachedConnections: Int = 256, connectTimeout: Duration = .milliseconds(200)) {
            self.maximumConnectionsPerHost = maximumConnectionsPerHost
            self.maximumCachedConnections = maximumCachedConnections
            self.connectTimeout = connectTimeout
        }
    }

    private let driver: CurlMultiDriver

    public init(configuration: Configuration = .init()) {
        curlGlobalInitOnce
        self.driver = CurlMultiDriver(configuration: configuration)
        driver.start()
    }

    deinit {
        driver.stop()
    }

    /// GETs `url`: the response of any status, or an error for transport failures, the timeout,
    /// a body over `maximumBodyBytes`, or cancellation of the calling task.
    public func get(_ url: String, timeout: Duration, maximumBodyBytes: Int) async throws(HTTPError) -> HTTPResponse {
        let milliseconds = max(1, Int(timeout.seconds * 1000))
        let state = Mutex(CallState.starting)
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    let transfer = CurlTransfer(
                        url: url,
                        timeoutMilliseconds: milliseconds,
                        maximumBodyBytes: maximumBodyBytes,
                        continuation: continuation
                    )
                    // Submitted under the lock, so that a cancellation is either seen here or
                    // sent to the driver after the submission, never before it.
                    state.withLock { state in
                        if case .cancelled = state {
                            transfer.finish(.failure(HTTPError(.cancelled, "the caller gave up")))
                            return
                        }
                        state = .submitted(transfer)
                        driver.submit(transfer)
                    }
                }
            } onCancel: {
                state.withLock { state in
                    if case .submitted(let transfer) = state { driver.cancel(transfer) }
                    state = .cancelled
                }
            }
        } catch let error as HTTPError {
            throw error
        } catch {
            throw HTTPError(.transport, "\(error)")
        }
    }

    /// Where one call stands when its task is cancelled.
    private enum CallState {
        case starting
        case submitted(CurlTransfer)
        case cancelled
    }

    /// Stops the driver thread; calls in flight fail as cancelled.
    public func shutdown() {
        driver.stop()
    }
}

private let curlGlobalInitOnce: Void = {
    curl_global_init(Int(CURL_GLOBAL_DEFAULT))
}()

extension CurlHTTPClient: Service {
    /// Keeps the driver thread until the service group shuts down, then stops it. Listed before
    /// the servers, it stops after them: ranks in flight finish their upstream calls first.
    public func run() async throws {
        try? await gracefulShutdown()
        shutdown()
    }
}
