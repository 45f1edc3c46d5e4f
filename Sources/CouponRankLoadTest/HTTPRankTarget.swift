import CouponRankUpstreams
import CouponRankWire
import Foundation

/// A ranking service behind HTTP/JSON, for measuring a peer implementation (loadtest/peers/) with
/// the same generator as CouponRank's own RPC: `GET {base}/v1/rank/{easy_id}?top_k=K`, answered
/// with `{"coupons": […], "degraded": [names], "timings_us": {"fetch", "context", "score", "total"}}`.
///
/// Connections are kept open and reused (libcurl's connection cache, as the engine's upstream
/// calls use). A status other than 200 counts as an error named `HTTP_<status>`.
public final class HTTPRankTarget: Sendable {
    public let base: String
    private let client: CurlHTTPClient
    private let decoder = JSONDecoder()

    public init(base: String, maximumConnections: Int) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.client = CurlHTTPClient(configuration: .init(
            maximumConnectionsPerHost: maximumConnections,
            maximumCachedConnections: maximumConnections,
            connectTimeout: .seconds(1)
        ))
    }

    func rank(easyID: String, topK: UInt16, timeout: Duration) async -> CallOutcome {
        let response: HTTPResponse
        do {
            response = try await client.get("\(base)/v1/rank/\(easyID)?top_k=\(topK)", timeout: timeout, maximumBodyBytes: 4 << 20)
        } catch {
            return .transport
        }
        guard response.status == 200 else { return .httpStatus(response.status) }
        guard let answer = try? decoder.decode(Answer.self, from: Data(response.body)) else { return .httpStatus(response.status) }
        let timings = RankResponse.Timings(
            fetchMicros: answer.timings.fetch,
            contextMicros: answer.timings.context,
            scoreMicros: answer.timings.score,
            totalMicros: answer.timings.total
        )
        return .ranked(timings, degraded: !answer.degraded.isEmpty)
    }

    public func shutdown() {
        client.shutdown()
    }

    private struct Answer: Decodable {
        struct Timings: Decodable {
            var fetch: UInt32
            var context: UInt32
            var score: UInt32
            var total: UInt32
        }
        var degraded: [String]
        var timings: Timings

        enum CodingKeys: String, CodingKey {
            case degraded
            case timings = "timings_us"
        }
    }
}
