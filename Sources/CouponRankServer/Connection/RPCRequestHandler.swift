import CouponRankEngine
import CouponRankWire
import Logging
import NIOCore

/// One connection of the RPC port: turns frames into engine requests and decisions into answers.
///
/// Decoding and admission happen here, on the connection's event loop, as each frame is read.
/// Ranks go to the loop's ``InlineRankQueue`` when every source answers from memory, and to a
/// task that fetches the inputs otherwise (the decision is then made back on this loop). Answers
/// are flushed once per read burst or per queue drain, not once each. Beyond the connection's
/// own in-flight bound, and whenever the engine's admission refuses, the answer is immediate.
final class RPCRequestHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = RPCAnswer

    /// Stop taking requests; close once the ones in flight are answered.
    struct Drain: Sendable {}

    private let engine: RankEngine
    private let admission: AdmissionController
    private let dispatcher: RequestDispatcher
    let queue: InlineRankQueue
    private let maximumInFlight: Int
    private let logger: Logger
    private var inFlight = 0
    private var draining = false
    /// When the bytes of the current read burst arrived: the arrival time of each of its frames.
    private var burstArrival: ContinuousClock.Instant?
    private var needsFlush = false
    private var awaitingDrainFlush = false

    init(
        engine: RankEngine,
        admission: AdmissionController,
        dispatcher: RequestDispatcher,
        queue: InlineRankQueue,
        maximumInFlight: Int,
        logger: Logger
    ) {
        self.engine = engine
        self.admission = admission
        self.dispatcher = dispatcher
        self.queue = queue
        self.maximumInFlight = maximumInFlight
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let arrival = burstArrival ?? ContinuousClock.now
        burstArrival = arrival
        let requestID = frame.header.requestID
        if let error = dispatcher.precheck(frame.header) {
            write(.error(requestID: requestID, error), context: context)
            return
        }
        switch frame.header.messageType {
        case .healthRequest:
            write(.health(requestID: requestID, dispatcher.health()), context: context)
        case .rewardRequest:
            write(dispatcher.reward(frame), context: context)
        case .adminReloadRequest:
            admin(frame, context: context) { await $0.adminReload($1) }
        case .adminExplorationRequest:
            admin(frame, context: context) { await $0.adminExploration($1) }
        default:
            rank(frame, arrival: arrival, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        burstArrival = nil
        flushIfNeeded(context: context)
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is Drain else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        draining = true
        if inFlight == 0 {
            flushIfNeeded(context: context)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The decoder's errors: the stream is no longer framed. Report why, then close.
        if let error = error as? WireError {
            logger.debug("closing connection on a framing error", metadata: ["error": "\(error)"])
            context.writeAndFlush(wrapOutboundOut(.error(requestID: 0, error)), promise: nil)
        } else {
            logger.debug("closing connection on an error", metadata: ["error": "\(error)"])
        }
        context.close(promise: nil)
    }

    private func rank(_ frame: Frame, arrival: ContinuousClock.Instant, context: ChannelHandlerContext) {
        let requestID = frame.header.requestID
        var payload = frame.payload
        let request: RankRequest
        do throws(WireError) {
            request = try RankRequest(payload: &payload)
        } catch {
            admission.metrics.recordRank(outcome: error.code.name, duration: .now - arrival)
            write(.error(requestID: requestID, error), context: context)
            return
        }
        if draining {
            let error = admission.refuse(RankError(.shuttingDown, "the server is shutting down"), receivedAt: arrival)
            write(.error(requestID: requestID, WireError(error)), context: context)
            return
        }
        guard inFlight < maximumInFlight else {
            let error = admission.refuse(
                RankError(.overloaded, "more than \(maximumInFlight) requests in flight on this connection"),
                receivedAt: arrival
            )
            write(.error(requestID: requestID, WireError(error)), context: context)
            return
        }
        let budget: Duration? = frame.header.budgetMicros > 0 ? .microseconds(Int64(frame.header.budgetMicros)) : nil
        let deadline = admission.deadline(receivedAt: arrival, budget: budget)
        let ticket: AdmissionController.Ticket
        do throws(RankError) {
            ticket = try admission.admit(receivedAt: arrival, deadline: deadline)
        } catch {
            write(.error(requestID: requestID, WireError(error)), context: context)
            return
        }
        inFlight += 1
        let job = InlineRankQueue.Job(
            connection: self,
            context: context,
            requestID: requestID,
            request: DecisionRequest(request, deadline: deadline, receivedAt: arrival),
            ticket: ticket
        )
        if engine.answersFromMemory {
            queue.submit(job)
        } else {
            fetchThenDecide(job)
        }
    }

    /// Fetches the inputs in a task, then decides back on this connection's loop.
    func fetchThenDecide(_ job: InlineRankQueue.Job) {
        let engine = self.engine
        let admission = self.admission
        let request = job.request
        let ticket = job.ticket
        let loop = job.context.eventLoop
        let bound = NIOLoopBound(job, eventLoop: loop)
        Task {
            let fetched: Result<RankEngine.Inputs, RankError>
            if let error = admission.queueingError(ticket, now: .now) {
                fetched = .failure(error)
            } else {
                do throws(RankError) {
                    fetched = .success(try await engine.fetch(request))
                } catch {
                    fetched = .failure(error)
                }
            }
            loop.execute {
                let job = bound.value
                switch fetched {
                case .success(let inputs):
                    job.connection.queue.decide(job, inputs: inputs)
                case .failure(let error):
                    job.connection.answer(job.requestID, ticket: job.ticket, .failure(error), context: job.context)
                    job.connection.flushIfNeeded(context: job.context)
                }
            }
        }
    }

    /// Writes the answer of an admitted rank and gives its slots back.
    func answer(
        _ requestID: UInt64,
        ticket: AdmissionController.Ticket,
        _ outcome: Result<Decision, RankError>,
        context: ChannelHandlerContext
    ) {
        admission.finish(ticket, outcome: outcome)
        inFlight -= 1
        switch outcome {
        case .success(let decision):
            write(.rank(requestID: requestID, decision), context: context)
        case .failure(let error):
            logger.debug("rank failed", metadata: ["request.id": "\(requestID)", "error": "\(error)"])
            write(.error(requestID: requestID, WireError(error)), context: context)
        }
        if draining, inFlight == 0 {
            flushIfNeeded(context: context)
            context.close(promise: nil)
        }
    }

    /// Whether this connection should be added to a drain's flush list (once per drain).
    func markUnflushed() -> Bool {
        guard !awaitingDrainFlush else { return false }
        awaitingDrainFlush = true
        return true
    }

    func flushIfNeeded(context: ChannelHandlerContext) {
        awaitingDrainFlush = false
        guard needsFlush else { return }
        needsFlush = false
        context.flush()
    }

    private func write(_ answer: RPCAnswer, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(answer), promise: nil)
        needsFlush = true
    }

    /// Answers an admin message from a task: it may wait on the model store.
    private func admin(
        _ frame: Frame,
        context: ChannelHandlerContext,
        _ handle: @escaping @Sendable (RequestDispatcher, Frame) async -> RPCAnswer
    ) {
        let dispatcher = self.dispatcher
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        Task {
            let answer = await handle(dispatcher, frame)
            loop.execute {
                let (handler, context) = bound.value
                handler.write(answer, context: context)
                handler.flushIfNeeded(context: context)
            }
        }
    }
}
