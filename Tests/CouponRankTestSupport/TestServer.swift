public import CouponRankCore
public import CouponRankEngine
import CouponRankModelFile
public import CouponRankServer
public import CouponRankSources
import Logging
import NIOCore
import ServiceLifecycle

/// A real RPC server on 127.0.0.1 and a free port, for the duration of a test body.
public struct TestServer: Sendable {
    public let host: String
    public let port: Int
    public let models: ModelSlot
    public let admission: AdmissionController
    private let group: ServiceGroup

    /// The data behind the default stub sources.
    public static let generator = StubDataGenerator(configuration: .init(catalogSize: 1000, candidatesPerUser: 200))

    /// Source timeouts generous enough that a loaded test machine does not degrade answers.
    public static let relaxedTimeouts = SourceTimeouts(userFeatures: .seconds(2), candidates: .seconds(2), stats: .seconds(2))

    /// The bundled model, loaded once for every test (it is immutable): decoding it in a debug
    /// build takes long enough to hold up a test's thread.
    public static func bundledModel() throws -> ScoringModel {
        try loadedBundledModel.get()
    }

    private static let loadedBundledModel = Result { try BundledModel.load() }

    /// Admission bounds for tests whose subject is not admission: a queueing bound that a busy
    /// test machine does not reach.
    public static let relaxedAdmission = AdmissionConfiguration(maximumInFlight: 4096, maximumQueueing: .seconds(30))

    /// Starts a server, runs `body` against it, then shuts it down gracefully.
    public static func with<T: Sendable>(
        configuration: ServerConfiguration = ServerConfiguration(port: 0),
        admission: AdmissionConfiguration = TestServer.relaxedAdmission,
        sources: SourceFanOut = .stubs(TestServer.generator, timeouts: TestServer.relaxedTimeouts),
        model: ScoringModel? = nil,
        models: ModelSlot? = nil,
        reloader: (any ModelReloading)? = nil,
        sink: (any DecisionSink)? = nil,
        exploration: ExplorationSwitch = ExplorationSwitch(),
        rewards: (any RewardSink)? = nil,
        rules: RulesSlot = RulesSlot(),
        _ body: @Sendable (TestServer) async throws -> T
    ) async throws -> T {
        var configuration = configuration
        configuration.host = "127.0.0.1"
        configuration.port = 0
        let models = try models ?? ModelSlot(try model ?? bundledModel(), origin: .embedded)
        var logger = Logger(label: "test-server")
        logger.logLevel = .warning
        let port = ListeningPort()
        let admissionController = AdmissionController(configuration: admission)
        let server = RPCServer(
            configuration: configuration,
            engine: RankEngine(sources: sources, models: models, sink: sink, exploration: exploration, rules: rules),
            admission: admissionController,
            reloader: reloader,
            rewards: rewards,
            logger: logger,
            onListening: port.report
        )
        return try await withListeningService(server, port: port, logger: logger) { port, group in
            try await body(TestServer(host: "127.0.0.1", port: port, models: models, admission: admissionController, group: group))
        }
    }

    /// Begins the graceful shutdown of this server (what SIGTERM does).
    public func beginShutdown() async {
        await group.triggerGracefulShutdown()
    }
}

public struct TestServerError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
