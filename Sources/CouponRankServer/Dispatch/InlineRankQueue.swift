import CouponRankCore
import CouponRankEngine
import NIOCore

/// The ranks of one event loop that are decided on that loop: from memory when every source
/// answers from memory, or after an asynchronous fetch.
///
/// Frames read in one I/O pass are queued here and decided, first in first out, in one task
/// right after it, so that every ready connection is read (and every request admitted or
/// refused) before the loop spends time deciding. A request is queued only if it would start
/// within the admission's queueing bound, judged by the queue's length and the recent time per
/// decision; one that waited too long anyway is refused when its turn comes. Both are answered
/// OVERLOADED at once, so overload shows as fast refusals instead of as a queue in the socket.
final class InlineRankQueue {
    struct Job {
        let connection: RPCRequestHandler
        let context: ChannelHandlerContext
        let requestID: UInt64
        let request: DecisionRequest
        let ticket: AdmissionController.Ticket
    }

    private let engine: RankEngine
    private let admission: AdmissionController
    private let eventLoop: any EventLoop
    private var jobs = CircularBuffer<Job>(initialCapacity: 64)
    /// Context-batch storage shared by every decision on this loop.
    private var scratch = ContextBatch()
    private var drainScheduled = false
    /// Moving average of the time one decision from memory takes, in nanoseconds.
    private var decisionNanoseconds: Double
    /// Connections written to by the current drain, flushed once at its end.
    private var unflushed: [(RPCRequestHandler, ChannelHandlerContext)] = []

    /// Work done between two looks at the sockets.
    private let slice: Duration

    /// `firstEstimate` is the time per decision assumed until decisions have been timed.
    init(
        engine: RankEngine,
        admission: AdmissionController,
        eventLoop: any EventLoop,
        slice: Duration = .microseconds(250),
        firstEstimate: Duration = .microseconds(20)
    ) {
        self.slice = slice
        self.decisionNanoseconds = Double(firstEstimate.nanoseconds)
        self.engine = engine
        self.admission = admission
        self.eventLoop = eventLoop
        unflushed.reserveCapacity(16)
    }

    /// Queues an admitted rank to be decided from memory, or refuses it when it would wait past
    /// the queueing bound.
    func submit(_ job: Job) {
        let waited = ContinuousClock.now - job.ticket.receivedAt
        let expected = Duration.nanoseconds(Int64(Double(jobs.count + 1) * decisionNanoseconds))
        guard waited + expected <= admission.configuration.maximumQueueing else {
            let error = RankError(
                .overloaded,
                "\(jobs.count) ranks queued on this thread: would start after the queueing bound of \(admission.configuration.maximumQueueing.microseconds) µs"
            )
            job.connection.answer(job.requestID, ticket: job.ticket, .failure(error), context: job.context)
            return
        }
        jobs.append(job)
        guard !drainScheduled else { return }
        drainScheduled = true
        eventLoop.assumeIsolated().execute { self.drain() }
    }

    /// Decides a rank whose inputs were fetched asynchronously, here on the loop it arrived on.
    func decide(_ job: Job, inputs: RankEngine.Inputs) {
        let outcome: Result<Decision, RankError>
        do throws(RankError) {
            outcome = .success(try engine.decide(job.request, inputs: inputs, scratch: &scratch))
        } catch {
            outcome = .failure(error)
        }
        job.connection.answer(job.requestID, ticket: job.ticket, outcome, context: job.context)
        job.connection.flushIfNeeded(context: job.context)
    }

    /// Decides queued ranks for about `slice`, then gives the loop back to I/O for a moment if
    /// any remain, so that new frames are read (and refused, if they must be) while a long queue
    /// drains: a refusal then waits for one slice, not for the whole queue.
    private func drain() {
        let sliceEnd = ContinuousClock.now + slice
        var decided = 0
        while !jobs.isEmpty {
            let start = ContinuousClock.now
            if decided > 0, start > sliceEnd {
                // A timer, not `execute`: the loop runs every ready task before it polls for I/O
                // again, so only a task that is not ready yet lets the reads in first.
                eventLoop.assumeIsolated().scheduleTask(in: Self.yield) { self.drain() }
                flushWritten()
                return
            }
            let job = jobs.removeFirst()
            if let error = admission.queueingError(job.ticket, now: start) {
                job.connection.answer(job.requestID, ticket: job.ticket, .failure(error), context: job.context)
            } else {
                let outcome: Result<Decision, RankError>
                do throws(RankError) {
                    guard let decision = try engine.rankFromMemory(job.request, scratch: &scratch) else {
                        // A source that cannot answer from memory after all: fetch asynchronously.
                        job.connection.fetchThenDecide(job)
                        continue
                    }
                    outcome = .success(decision)
                } catch {
                    outcome = .failure(error)
                }
                let elapsed = Double((ContinuousClock.now - start).nanoseconds)
                decisionNanoseconds += (elapsed - decisionNanoseconds) / 16
                job.connection.answer(job.requestID, ticket: job.ticket, outcome, context: job.context)
            }
            decided += 1
            if job.connection.markUnflushed() {
                unflushed.append((job.connection, job.context))
            }
        }
        drainScheduled = false
        flushWritten()
    }

    private func flushWritten() {
        for (connection, context) in unflushed {
            connection.flushIfNeeded(context: context)
        }
        unflushed.removeAll(keepingCapacity: true)
    }

    /// How far ahead the next slice is scheduled: enough to be not yet due when the loop next
    /// looks for ready tasks, short enough to cost little when no I/O is waiting.
    static let yield = TimeAmount.microseconds(10)
}
