import CCurl
import CouponRankCore
import Foundation
import Synchronization

/// Owns the curl multi handle and runs it on its own thread: adds submitted transfers, lets curl
/// do the I/O (`curl_multi_perform`), completes finished transfers, and sleeps in
/// `curl_multi_poll` until there is I/O, a timer, or a `curl_multi_wakeup` from another thread.
final class CurlMultiDriver: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let configuration: CurlHTTPClient.Configuration
    private let inbox = Mutex(Inbox())
    /// Driver thread only.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var headers: UnsafeMutablePointer<curl_slist>?

    private struct Inbox {
        var submitted: [CurlTransfer] = []
        var cancelled: [ObjectIdentifier] = []
        var stopped = false
        var running = false
    }

    init(configuration: CurlHTTPClient.Configuration) {
        self.configuration = configuration
        self.multi = curl_multi_init()
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, configuration.maximumConnectionsPerHost)
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        // Keep idle connections for reuse: curl's default cache (4 × handles currently added)
        // shrinks between bursts and closes connections the next burst then has to reopen.
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, configuration.maximumCachedConnections)
        headers = curl_slist_append(nil, "Accept: application/json")
    }

    deinit {
        curl_multi_cleanup(multi)
        curl_slist_free_all(headers)
    }

    func start() {
        inbox.withLock { $0.running = true }
        let thread = Thread { [self] in self.loop() }
        thread.name = "curl-multi"
        thread.start()
    }

    func submit(_ transfer: CurlTransfer) {
        let accepted = inbox.withLock { inbox -> Bool in
            guard !inbox.stopped else { return false }
            inbox.submitted.append(transfer)
            return true
        }
        if accepted {
            curl_multi_wakeup(multi)
        } else {
            transfer.finish(.failure(HTTPError(.cancelled, "the HTTP client is shut down")))
        }
    }

    func cancel(_ transfer: CurlTransfer) {
        inbox.withLock { $0.cancelled.append(ObjectIdentifier(transfer)) }
        curl_multi_wakeup(multi)
    }

    func stop() {
        let wasRunning = inbox.withLock { inbox -> Bool in
            inbox.stopped = true
            return inbox.running
        }
        if wasRunning { curl_multi_wakeup(multi) }
    }

    private func loop() {
        var running: Int32 = 0
        while true {
            let (submitted, cancelled, stopped) = inbox.withLock { inbox in
                defer {
                    inbox.submitted.removeAll()
                    inbox.cancelled.removeAll()
                }
                return (inbox.submitted, inbox.cancelled, inbox.stopped)
            }
            for transfer in submitted { add(transfer) }
            if !cancelled.isEmpty {
                let targets = Set(cancelled)
                for (easy, transfer) in active where targets.contains(ObjectIdentifier(transfer)) {
                    complete(easy, with: .failure(HTTPError(.cancelled, "the caller gave up")))
                }
                // A call sends its cancellation only after its submission (CurlHTTPClient.get),
                // so both are in this batch or the submission was in an earlier one.
            }
            if stopped {
                for easy in Array(active.keys) {
                    complete(easy, with: .failure(HTTPError(.cancelled, "the HTTP client is shut down")))
                }
                inbox.withLock { $0.running = false }
                return
            }
            curl_multi_perform(multi, &running)
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard ccurl_message_is_done(message) != 0, let easy = ccurl_message_easy(message) else { continue }
                let result = ccurl_message_result(message)
                complete(easy, with: outcome(of: easy, result: result))
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }

    private func add(_ transfer: CurlTransfer) {
        guard let easy = curl_easy_init() else {
            transfer.finish(.failure(HTTPError(.transport, "curl_easy_init failed")))
            return
        }
        let userdata = Unmanaged.passUnretained(transfer).toOpaque()
        _ = ccurl_easy_setopt_string(easy, CURLOPT_URL, transfer.url)
        _ = ccurl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, transfer.timeoutMilliseconds)
        let connect = min(transfer.timeoutMilliseconds, max(1, Int(configuration.connectTimeout.seconds * 1000)))
        _ = ccurl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, connect)
        _ = ccurl_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        _ = ccurl_easy_setopt_long(easy, CURLOPT_PIPEWAIT, 1)
        _ = ccurl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        _ = ccurl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headers)
        _ = ccurl_easy_setopt_write_function(easy, curlWriteCallback)
        _ = ccurl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, userdata)
        _ = ccurl_easy_setopt_pointer(easy, CURLOPT_PRIVATE, userdata)
        active[easy] = transfer
        curl_multi_add_handle(multi, easy)
    }

    private func outcome(of easy: UnsafeMutableRawPointer, result: CURLcode) -> Result<HTTPResponse, HTTPError> {
        guard let transfer = active[easy] else { return .failure(HTTPError(.transport, "unknown transfer")) }
        switch result {
        case CURLE_OK:
            return .success(
                HTTPResponse(
                    status: ccurl_easy_response_code(easy),
                    body: transfer.body,
                    newConnections: ccurl_easy_new_connections(easy)
                )
            )
        case CURLE_WRITE_ERROR where transfer.bodyTooLarge:
            return .failure(HTTPError(.tooLarge, "body over \(transfer.maximumBodyBytes) bytes from \(transfer.url)"))
        case CURLE_OPERATION_TIMEDOUT:
            return .failure(HTTPError(.timeout, "no answer from \(transfer.url) within \(transfer.timeoutMilliseconds) ms"))
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST:
            return .failure(HTTPError(.connect, "\(String(cString: curl_easy_strerror(result))): \(transfer.url)"))
        default:
            return .failure(HTTPError(.transport, "\(String(cString: curl_easy_strerror(result))): \(transfer.url)"))
        }
    }

    private func complete(_ easy: UnsafeMutableRawPointer, with result: Result<HTTPResponse, HTTPError>) {
        guard let transfer = active.removeValue(forKey: easy) else { return }
        curl_multi_remove_handle(multi, easy)
        curl_easy_cleanup(easy)
        transfer.finish(result)
    }
}
