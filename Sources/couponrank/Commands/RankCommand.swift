import ArgumentParser
import CouponRankClient
import CouponRankOps
import CouponRankWire
import Foundation

struct RankCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rank",
        abstract: "Rank the coupons of one easy_id on a running server."
    )

    @Argument(help: "The visitor's easy_id.")
    var easyID: String

    @Option(help: "Server address, HOST:PORT.")
    var server = ServerAddress.local

    @Option(help: "How many coupons to return (0: the server's default).")
    var top = 0

    @Option(parsing: .upToNextOption, help: "Rank only these coupon ids.")
    var candidates: [String] = []

    @Option(parsing: .upToNextOption, help: "Never return these coupon ids.")
    var exclude: [String] = []

    @Option(help: "How long to wait for the answer, in milliseconds (also sent as the budget).")
    var timeoutMs = 1000

    @Option(help: "The decision's event id (1–64 bytes of A-Z a-z 0-9 . _ : -); the server makes one when absent.")
    var eventID: String?

    @Flag(help: "Rank greedily for this call, without exploration.")
    var noExplore = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard (0...WireLimits.maximumTopK).contains(top) else {
            throw ValidationError("--top must be in 0...\(WireLimits.maximumTopK)")
        }
        guard timeoutMs > 0 else { throw ValidationError("--timeout-ms must be positive") }
    }

    func run() async throws {
        let client = try await CouponRankClient.connect(host: server.host, port: server.port)
        defer { Task { await client.close() } }
        let request = RankRequest(
            easyID: easyID,
            topK: UInt16(top),
            candidateIDs: candidates,
            excludedIDs: exclude,
            eventID: eventID ?? "",
            flags: noExplore ? .noExploration : []
        )
        let response: RankResponse
        do {
            response = try await client.rank(request, timeout: .milliseconds(timeoutMs))
        } catch let error as ClientError {
            print("rank failed: \(error)")
            throw ExitCode(1)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(RankJSON(easyID: easyID, response: response)), as: UTF8.self))
        } else {
            print(RankOutput.table(easyID: easyID, response: response))
        }
    }
}

/// The readable table of `couponrank rank`.
enum RankOutput {
    static func table(easyID: String, response: RankResponse) -> String {
        var lines: [String] = []
        let degraded = response.degraded.names
        lines.append(
            "easy_id \(easyID)  model \(response.modelVersion)  degraded: \(degraded.isEmpty ? "none" : degraded.joined(separator: ","))"
        )
        let t = response.timings
        if !response.eventID.isEmpty {
            lines.append("event_id \(response.eventID)  policy \(response.policyName)")
        }
        lines.append("server time: fetch \(t.fetchMicros) µs, context \(t.contextMicros) µs, score \(t.scoreMicros) µs, total \(t.totalMicros) µs")
        lines.append("")
        lines.append(pad("#", 4) + pad("coupon", 10) + pad("score", 10) + pad("p(click)", 10) + pad("propensity", 11) + "name")
        for (index, item) in response.items.enumerated() {
            lines.append(
                pad("\(index + 1)", 4) + pad(item.couponID, 10) + pad(format(item.score), 10)
                    + pad(format(item.probability), 10) + pad(format(item.propensity), 11) + item.name
            )
        }
        return lines.joined(separator: "\n")
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private static func format(_ value: Double) -> String {
        String(format: "%.5f", value)
    }
}
