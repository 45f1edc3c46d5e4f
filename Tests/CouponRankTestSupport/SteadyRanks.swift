public import CouponRankClient
import CouponRankWire
import Synchronization

/// Steady Rank load for a test that disturbs something underneath the engine (a Redis failover,
/// a reshard): `workers` tasks each rank a fresh easy_id every 5 ms through one client, counting
/// answers and failures, until the test's body returns.
public final class SteadyRanks: Sendable {
    private let answeredCount = Atomic<Int>(0)
    private let failedCount = Atomic<Int>(0)

    public var answered: Int { answeredCount.load(ordering: .relaxed) }
    public var failed: Int { failedCount.load(ordering: .relaxed) }

    private init() {}

    /// Runs `body` while the load runs, then stops the load and waits for its last calls.
    public static func during<T: Sendable>(
        _ client: CouponRankClient,
        workers: Int = 4,
        _ body: (SteadyRanks) async throws -> T
    ) async throws -> T {
        let load = SteadyRanks()
        let stop = Gate()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var index = 0
                    while !stop.isOpen {
                        do {
                            _ = try await client.rank(RankRequest(easyID: "u\(worker)-\(index)", topK: 5), timeout: .seconds(10))
                            load.answeredCount.add(1, ordering: .relaxed)
                        } catch {
                            load.failedCount.add(1, ordering: .relaxed)
                        }
                        index += 1
                        try await Task.sleep(for: .milliseconds(5))
                    }
                }
            }
            do {
                let result = try await body(load)
                stop.open()
                try await group.waitForAll()
                return result
            } catch {
                stop.open()
                throw error
            }
        }
    }
}
