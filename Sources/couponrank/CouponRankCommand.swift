import ArgumentParser

@main
struct CouponRankCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "couponrank",
        abstract: "CouponRank: ranks coupons for a visitor with a contextual-bandit model.",
        subcommands: [ServeCommand.self, RankCommand.self, HealthCommand.self, ModelCommand.self, AdminCommand.self, StubsCommand.self]
    )
}
