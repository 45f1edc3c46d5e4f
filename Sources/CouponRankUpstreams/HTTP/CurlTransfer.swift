import CCurl

/// One GET in flight: its easy handle, its body so far, and who waits for it.
///
/// Created by the caller, then touched only on the driver thread until it completes.
final class CurlTransfer: @unchecked Sendable {
    let url: String
    let timeoutMilliseconds: Int
    let maximumBodyBytes: Int
    private var continuation: CheckedContinuation<HTTPResponse, any Error>?
    var body: [UInt8] = []
    var bodyTooLarge = false

    init(url: String, timeoutMilliseconds: Int, maximumBodyBytes: Int, continuation: CheckedContinuation<HTTPResponse, any Error>) {
        self.url = url
        self.timeoutMilliseconds = timeoutMilliseconds
        self.maximumBodyBytes = maximumBodyBytes
        self.continuation = continuation
    }

    func finish(_ result: Result<HTTPResponse, HTTPError>) {
        guard let continuation else { return }
        self.continuation = nil
        continuation.resume(with: result.mapError { $0 as any Error })
    }
}

/// curl's write callback: appends to the transfer's body, refusing bytes past its limit (which
/// makes curl abort the transfer with CURLE_WRITE_ERROR).
let curlWriteCallback: ccurl_write_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard transfer.body.count + length <= transfer.maximumBodyBytes else {
        transfer.bodyTooLarge = true
        return 0
    }
    data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        transfer.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
    }
    return length
}
