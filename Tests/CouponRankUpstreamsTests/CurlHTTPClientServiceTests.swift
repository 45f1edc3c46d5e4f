import CouponRankTestSupport
import CouponRankUpstreams
import Logging
import ServiceLifecycle
import Testing

/// The curl client's driver thread belongs to the service group: it stops when the group does.
@Suite struct CurlHTTPClientServiceTests {
    @Test func aGracefulShutdownStopsTheClientAndLaterCallsAreRefused() async throws {
        try await StubUpstreams.with { baseURL, _ in
            let http = CurlHTTPClient()
            var logger = Logger(label: "curl-service-test")
            logger.logLevel = .warning
            let group = ServiceGroup(services: [http], logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let url = "\(baseURL)/v1/users/7/features"
                #expect(try await http.get(url, timeout: .seconds(5), maximumBodyBytes: 1 << 20).status == 200)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                let error = await #expect(throws: HTTPError.self) {
                    try await http.get(url, timeout: .seconds(5), maximumBodyBytes: 1 << 20)
                }
                #expect(error?.code == .cancelled)
            }
        }
    }
}
