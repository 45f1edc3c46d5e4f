import CouponRankCore
import CouponRankEngine
@testable import CouponRankServer
import CouponRankSources
import CouponRankTestSupport
import CouponRankWire
import Logging
import NIOCore
import NIOEmbedded
import Testing

/// The RPC pipeline's handlers on an `EmbeddedChannel`: no socket, the event loop run by hand.
@Suite struct RPCHandlerTests {
    /// Counts flushes that reach the head of the pipeline.
    final class FlushCounter: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var flushes = 0

        func flush(context: ChannelHandlerContext) {
            flushes += 1
            context.flush()
        }
    }

    struct Harness {
        let channel: EmbeddedChannel
        let admission: AdmissionController
        let flushes: FlushCounter

        init(
            admission configuration: AdmissionConfiguration = TestServer.relaxedAdmission,
            maximumInFlightPerConnection: Int = 256,
            slice: Duration = .seconds(10),
            firstEstimate: Duration = .microseconds(20)
        ) throws {
            channel = EmbeddedChannel()
            let models = ModelSlot(try TestServer.bundledModel(), origin: .embedded)
            let engine = RankEngine(sources: .stubs(TestServer.generator), models: models)
            admission = AdmissionController(configuration: configuration)
            var logger = Logger(label: "rpc-handler-test")
            logger.logLevel = .critical
            let dispatcher = RequestDispatcher(
                models: models,
                exploration: engine.exploration,
                rewards: RewardIntake(token: nil, sink: nil),
                admission: admission,
                reloader: nil,
                componentStates: { [] },
                configuration: ServerConfiguration(),
                logger: logger
            )
            flushes = FlushCounter()
            let handler = RPCRequestHandler(
                engine: engine,
                admission: admission,
                dispatcher: dispatcher,
                queue: InlineRankQueue(engine: engine, admission: admission, eventLoop: channel.embeddedEventLoop, slice: slice, firstEstimate: firstEstimate),
                maximumInFlight: maximumInFlightPerConnection,
                logger: logger
            )
            try channel.pipeline.syncOperations.addHandlers([
                flushes, ByteToMessageHandler(FrameDecoder()), RPCAnswerEncoder(), handler,
            ])
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7420)).wait()
        }

        /// Runs the loop's tasks, the queue's later slices included (they are scheduled a few
        /// microseconds ahead, so the loop's clock must move).
        func runQueue() {
            for _ in 0..<1000 {
                channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
            }
        }

        /// Frames written so far, decoded.
        func answers() throws -> [Frame] {
            var frames: [Frame] = []
            var decoder = FrameDecoder()
            while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
                while let frame = try decoder.decode(buffer: &buffer) { frames.append(frame) }
            }
            return frames
        }
    }

    private func ranks(_ ids: ClosedRange<UInt64>, budgetMicros: UInt32 = 5_000_000) -> ByteBuffer {
        var burst = ByteBuffer()
        for id in ids {
            burst.writeFrame(RankRequest(easyID: "user-\(id)", topK: 3), requestID: id, budgetMicros: budgetMicros)
        }
        return burst
    }

    private func errorCode(_ frame: Frame) throws -> ErrorCode {
        var payload = frame.payload
        return try ErrorResponse(payload: &payload).code
    }

    @Test func aBurstOfRanksIsDecidedOnTheLoopAndFlushedOnce() throws {
        let harness = try Harness()
        try harness.channel.writeInbound(ranks(1...4))
        // Read and admitted; the decisions run right after the read, as a task of the loop.
        #expect(try harness.answers().isEmpty)
        #expect(harness.admission.inFlight == 4)
        harness.runQueue()
        let answers = try harness.answers()
        #expect(answers.map(\.header.requestID) == [1, 2, 3, 4])
        #expect(answers.allSatisfy { $0.header.messageType == .rankResponse })
        #expect(harness.flushes.flushes == 1)
        #expect(harness.admission.inFlight == 0)
        var payload = answers[0].payload
        #expect(try RankResponse(payload: &payload).items.count == 3)
    }

    @Test func healthAndProtocolErrorsAreAnsweredInlineAndTheConnectionStays() throws {
        let harness = try Harness()
        var frames = ByteBuffer()
        frames.writeFrame(HealthRequest(), requestID: 7)
        frames.writeFrame(FrameHeader(version: 9, messageType: .rankRequest, requestID: 8)) { _ in }
        frames.writeFrame(FrameHeader(messageType: MessageType(rawValue: 0x7F), requestID: 9)) { _ in }
        frames.writeFrame(RankRequest(easyID: "", topK: 1), requestID: 10)
        try harness.channel.writeInbound(frames)
        let answers = try harness.answers()
        #expect(answers.map(\.header.requestID) == [7, 8, 9, 10])
        #expect(answers[0].header.messageType == .healthResponse)
        #expect(try errorCode(answers[1]) == .unsupportedVersion)
        #expect(try errorCode(answers[2]) == .unknownMessageType)
        #expect(try errorCode(answers[3]) == .invalidArgument)
        #expect(harness.flushes.flushes == 1)
        #expect(harness.channel.isActive)
    }

    @Test func ranksThatWouldWaitPastTheQueueingBoundAreRefusedBeforeAnyIsDecided() throws {
        // At a first estimate of 1 ms per decision, a 50 ms bound holds at most 50 of 100. The
        // bound is wide so that the first is queued however late this thread gets to it.
        let harness = try Harness(
            admission: AdmissionConfiguration(maximumInFlight: 1000, maximumQueueing: .milliseconds(50)),
            firstEstimate: .milliseconds(1)
        )
        try harness.channel.writeInbound(ranks(1...100))
        let refused = try harness.answers()
        #expect(refused.count >= 50)
        #expect(try refused.allSatisfy { try errorCode($0) == .overloaded })
        harness.runQueue()
        let decided = try harness.answers()
        #expect(refused.count < 100)  // the first was queued
        // Queued ones that then waited past the bound are refused when their turn comes.
        #expect(refused.count + decided.count == 100)
        #expect(harness.admission.inFlight == 0)
    }

    @Test func ranksBeyondTheConnectionBoundAreOverloadedAtOnce() throws {
        let harness = try Harness(maximumInFlightPerConnection: 2)
        try harness.channel.writeInbound(ranks(1...5))
        let refused = try harness.answers()
        #expect(refused.map(\.header.requestID) == [3, 4, 5])
        #expect(try refused.allSatisfy { try errorCode($0) == .overloaded })
        harness.runQueue()
        #expect(try harness.answers().map(\.header.requestID) == [1, 2])
    }

    @Test func aLongQueueIsDecidedInSlicesWithAFlushAfterEach() throws {
        let harness = try Harness(slice: .zero)
        try harness.channel.writeInbound(ranks(1...3))
        harness.channel.embeddedEventLoop.run()
        // One decision per slice; the next slice waits for the loop to look at its sockets.
        #expect(try harness.answers().map(\.header.requestID) == [1])
        harness.runQueue()
        #expect(try harness.answers().map(\.header.requestID) == [2, 3])
        #expect(harness.flushes.flushes == 3)
    }

    @Test func aDrainAnswersWhatIsQueuedRefusesTheRestThenCloses() throws {
        let harness = try Harness()
        try harness.channel.writeInbound(ranks(1...2))
        harness.channel.pipeline.fireUserInboundEventTriggered(RPCRequestHandler.Drain())
        try harness.channel.writeInbound(ranks(3...3))
        #expect(try errorCode(try #require(try harness.answers().first)) == .shuttingDown)
        #expect(harness.channel.isActive)
        harness.runQueue()
        #expect(try harness.answers().map(\.header.requestID) == [1, 2])
        #expect(!harness.channel.isActive)
    }

    @Test func anOversizedFrameIsReportedThenTheConnectionCloses() throws {
        let harness = try Harness()
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(64 << 20))
        buffer.writeInteger(FrameHeader.magic)
        try harness.channel.writeInbound(buffer)
        let answers = try harness.answers()
        #expect(answers.count == 1)
        #expect(try errorCode(answers[0]) == .frameTooLarge)
        #expect(!harness.channel.isActive)
    }
}
