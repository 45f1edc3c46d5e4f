@testable import CouponRankOps
import Testing

@Suite struct MetricHelpTests {
    @Test func helpGoesBeforeEachTypeLineThatHasNoneAndNothingElseChanges() {
        let exposition = """
            # TYPE couponrank_ranks_total counter
            couponrank_ranks_total{outcome="ok"} 3
            # HELP couponrank_open_connections Already said
            # TYPE couponrank_open_connections gauge
            couponrank_open_connections 1
            # TYPE some_other_family gauge
            some_other_family 2

            """
        let result = String(decoding: MetricHelp.adding(to: Array(exposition.utf8)), as: UTF8.self)
        let lines = result.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "# HELP couponrank_ranks_total \(MetricHelp.texts["couponrank_ranks_total"]!)")
        #expect(lines[1] == "# TYPE couponrank_ranks_total counter")
        #expect(lines.filter { $0.hasPrefix("# HELP couponrank_open_connections") }.count == 1, "an existing HELP is kept, not doubled")
        #expect(!result.contains("# HELP some_other_family"))
        #expect(lines.filter { !$0.hasPrefix("# HELP couponrank_ranks_total") }.joined(separator: "\n") == exposition)
        #expect(MetricHelp.adding(to: []).isEmpty)
    }
}
