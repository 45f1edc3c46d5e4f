import Benchmark
import CouponRankCore
import CouponRankEngine
import CouponRankModelFile
import CouponRankServer
import CouponRankSources
import CouponRankWire
import NIOCore

/// One rank as the RPC port handles it when every source answers from memory: the frame is
/// decoded, the engine fetches from the stub sources and decides with reused context storage,
/// and the answer is encoded into a buffer of its own, as `RPCAnswerEncoder` does. No sockets:
/// the I/O around it is the load test's subject.
final class RequestPath: Sendable {
    let engine: RankEngine
    /// Rank frames for distinct users, so that the generator's data is not always the same.
    let frames: [ByteBuffer]
    let allocator = ByteBufferAllocator()

    init(users: Int = 1024) throws {
        let model = try BundledModel.load()
        engine = RankEngine(
            sources: .stubs(StubDataGenerator()),
            models: ModelSlot(model, origin: .embedded)
        )
        frames = (0..<users).map { user in
            var buffer = ByteBufferAllocator().buffer(capacity: 64)
            buffer.writeFrame(RankRequest(easyID: "user-\(user)", topK: 20), requestID: UInt64(user + 1))
            return buffer
        }
        precondition(engine.answersFromMemory, "the stub sources must answer from memory")
    }

    func request(_ frame: ByteBuffer, budget: Duration = .seconds(1)) -> (requestID: UInt64, request: DecisionRequest) {
        var buffer = frame
        var decoder = FrameDecoder()
        guard let decoded = try? decoder.decode(buffer: &buffer) else { fatalError("the benchmark's frame does not decode") }
        var payload = decoded.payload
        guard let request = try? RankRequest(payload: &payload) else { fatalError("the benchmark's request does not decode") }
        let now = ContinuousClock.now
        return (decoded.header.requestID, DecisionRequest(request, deadline: now + budget, receivedAt: now))
    }

    func answer(_ decision: Decision, requestID: UInt64) -> ByteBuffer {
        let response = RankResponse(decision)
        var buffer = allocator.buffer(capacity: 64 + response.items.count * 64)
        buffer.writeFrame(response, requestID: requestID)
        return buffer
    }

    func rank(_ frame: ByteBuffer, scratch: inout ContextBatch) -> ByteBuffer {
        let (requestID, request) = request(frame)
        guard let decision = try? engine.rankFromMemory(request, scratch: &scratch) else { fatalError("the rank failed") }
        return answer(decision, requestID: requestID)
    }
}

/// The context storage an event loop keeps and reuses from one rank to the next.
final class Scratch: @unchecked Sendable {
    var batch = ContextBatch()
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        warmupIterations: 200,
        scalingFactor: .one,
        maxDuration: .seconds(5),
        maxIterations: 50_000
    )
    let path: RequestPath
    do {
        path = try RequestPath()
    } catch {
        fatalError("cannot load the bundled model: \(error)")
    }
    let count = path.frames.count
    // The closures below run once per sample: what must outlive a sample is made here.
    let scratch = Scratch()
    let prepared = path.frames.prefix(64).map { frame in
        // Decided long after they were prepared: a deadline far enough away.
        let request = path.request(frame, budget: .seconds(3600)).request
        guard let inputs = try? path.engine.fetchFromMemory(request) else { fatalError("no inputs") }
        return (request, inputs)
    }

    Benchmark("rank: decode, fetch from memory, decide, encode") { benchmark in
        for iteration in benchmark.scaledIterations {
            blackHole(path.rank(path.frames[iteration % count], scratch: &scratch.batch))
        }
    }

    Benchmark("decode only") { benchmark in
        for iteration in benchmark.scaledIterations {
            blackHole(path.request(path.frames[iteration % count]))
        }
    }

    Benchmark("fetch from memory only (stub sources)") { benchmark in
        for iteration in benchmark.scaledIterations {
            blackHole(try? path.engine.fetchFromMemory(path.request(path.frames[iteration % count]).request))
        }
    }

    Benchmark("decide only (eligibility, contexts, score, top-k)") { benchmark in
        for iteration in benchmark.scaledIterations {
            let (request, inputs) = prepared[iteration % prepared.count]
            do {
                blackHole(try path.engine.decide(request, inputs: inputs, scratch: &scratch.batch))
            } catch {
                fatalError("the decision failed: \(error)")
            }
        }
    }
}
