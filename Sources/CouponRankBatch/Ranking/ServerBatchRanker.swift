public import CouponRankClient
import CouponRankWire

/// Ranks rows on a running engine over the binary protocol, every row of a chunk at once, over
/// one or more multiplexed connections (a row goes to connection `line % count`: a server decides
/// a connection's in-memory ranks on that connection's event loop, so one connection keeps one
/// core busy). Only the easy_id travels (PROTOCOL.md's Rank has no user features): the server's
/// own sources provide the user features.
public struct ServerBatchRanker: BatchRanker {
    public let clients: [CouponRankClient]
    public let topK: Int
    public let eventIDs: BatchEventIDs
    /// How long one call waits for its answer; also sent as its budget.
    public let timeout: Duration
    /// Calls answered OVERLOADED are retried, after 5 ms, 10 ms, 20 ms, … (at most 1 s), until this
    /// many were made: the server sheds what it cannot start in time, and a batch can wait.
    public let maximumAttempts: Int

    public init(clients: [CouponRankClient], topK: Int, eventIDs: BatchEventIDs, timeout: Duration = .seconds(1), maximumAttempts: Int = 10) {
        precondition(!clients.isEmpty, "at least one connection")
        precondition((1...WireLimits.maximumTopK).contains(topK), "top-k must be in 1...\(WireLimits.maximumTopK)")
        precondition(maximumAttempts > 0)
        self.clients = clients
        self.topK = topK
        self.eventIDs = eventIDs
        self.timeout = timeout
        self.maximumAttempts = maximumAttempts
    }

    /// Refuses a file whose rows carry user features: they cannot be sent, and ranking with the
    /// server's own features instead must be asked for (by reading the file with
    /// `ignoresFeatures`, `--ignore-feature-columns`).
    public static func check(_ columns: CustomerColumns, path: String) throws(BatchError) {
        guard !columns.hasFeatures else {
            throw BatchError(
                .invalidOptions,
                "\(path) has feature columns (\(columns.featureNames.joined(separator: ","))), but a server is sent only easy_id "
                    + "and fetches the user features itself: rank in process, or pass --ignore-feature-columns"
            )
        }
    }

    public func rank(_ rows: [CustomerRow]) async throws(BatchError) -> [RowOutcome] {
        let results = await withTaskGroup(of: (Int, Result<RowOutcome, BatchError>).self) { group in
            for (index, row) in rows.enumerated() {
                group.addTask { (index, await rank(row)) }
            }
            var results = [Result<RowOutcome, BatchError>](repeating: .success(.noEligibleCoupon), count: rows.count)
            for await (index, result) in group {
                results[index] = result
            }
            return results
        }
        return try results.map { result throws(BatchError) in try result.get() }
    }

    /// The server's greedy decision for `row`, or why there is none; a failure when the connection
    /// is gone.
    public func rank(_ row: CustomerRow) async -> Result<RowOutcome, BatchError> {
        let request = RankRequest(
            easyID: row.easyID,
            topK: UInt16(topK),
            eventID: eventIDs.id(line: row.line),
            flags: .noExploration
        )
        let client = clients[row.line % clients.count]
        var attempt = 1
        while true {
            do {
                let response = try await client.rank(request, timeout: timeout)
                guard !response.items.isEmpty else { return .success(.noEligibleCoupon) }
                return .success(
                    .ranked(
                        offers: response.items.map { Offer(couponID: $0.couponID, name: $0.name, score: $0.score) },
                        modelVersion: response.modelVersion,
                        degraded: !response.degraded.isEmpty
                    )
                )
            } catch let error as ClientError {
                switch error.code {
                case .server:
                    let code = error.serverError?.code ?? .internal
                    if code == .noCandidates { return .success(.noEligibleCoupon) }
                    if code == .overloaded, attempt < maximumAttempts {
                        try? await Task.sleep(for: .milliseconds(min(1000, 5 << (attempt - 1))))
                        attempt += 1
                        continue
                    }
                    return .success(.failed(reason: code.name))
                case .timeout:
                    return .success(.failed(reason: "timeout"))
                case .connectionClosed:
                    return .failure(BatchError(.server, "the connection to the server closed", underlying: error))
                default:
                    return .success(.failed(reason: "protocol_violation"))
                }
            } catch {
                return .success(.failed(reason: "\(type(of: error))"))
            }
        }
    }
}
