import CouponRankClient
import CouponRankCore
import CouponRankWire
import Synchronization

/// A live view of a run, for the progress line.
public struct LoadProgress: Sendable {
    public var elapsed: Duration
    public var inWarmup: Bool
    public var started: Int
    public var completed: Int
    public var errors: Int
    public var p99: Duration
}

/// What the load is offered to.
public enum LoadTarget: Sendable {
    /// A CouponRank server over its RPC protocol.
    case rpc(ClientPool)
    /// A peer implementation over HTTP/JSON (open loop only).
    case http(HTTPRankTarget)
}

/// Drives one ``LoadPlan`` against a server through a pool of connections.
public struct LoadRunner: Sendable {
    public let plan: LoadPlan
    public let target: LoadTarget

    public init(plan: LoadPlan, target: LoadTarget) {
        self.plan = plan
        self.target = target
    }

    public init(plan: LoadPlan, clients: ClientPool) {
        self.init(plan: plan, target: .rpc(clients))
    }

    public func run(progress: (@Sendable (LoadProgress) -> Void)? = nil) async -> RunReport {
        let recorder = LatencyRecorder()
        let counters = RunCounters()
        let clock = ContinuousClock()
        let start = clock.now + .milliseconds(20)
        let warmupEnd = start + plan.warmup
        let reporter: Task<Void, Never>? = progress.map { progress in
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    let now = clock.now
                    progress(
                        LoadProgress(
                            elapsed: now - start,
                            inWarmup: now < warmupEnd,
                            started: counters.started.load(ordering: .relaxed),
                            completed: recorder.completed,
                            errors: recorder.errorCount,
                            p99: recorder.snapshotP99()
                        )
                    )
                }
            }
        }
        let modeName: String
        let offered: Double?
        switch plan.mode {
        case .open(let rate):
            modeName = plan.callsPerPage > 1 ? "open-loop pages" : "open-loop"
            offered = rate
            await runOpen(rate: rate, start: start, warmupEnd: warmupEnd, recorder: recorder, counters: counters)
        case .closed(let connections, let inFlight):
            guard case .rpc(let clients) = target else { preconditionFailure("closed loop needs an RPC target") }
            modeName = "closed-loop \(connections)×\(inFlight)"
            offered = nil
            await runClosed(clients: clients, workers: connections * inFlight, start: start, warmupEnd: warmupEnd, recorder: recorder, counters: counters)
        }
        reporter?.cancel()
        let measured = max((counters.lastCompletion ?? clock.now) - warmupEnd, .milliseconds(1))
        return RunReport(
            mode: modeName,
            offeredRate: offered,
            sent: counters.measuredSent.load(ordering: .relaxed),
            measuredSeconds: measured.seconds,
            callsPerPage: plan.callsPerPage,
            recorder: recorder
        )
    }

    private func runOpen(
        rate: Double,
        start: ContinuousClock.Instant,
        warmupEnd: ContinuousClock.Instant,
        recorder: LatencyRecorder,
        counters: RunCounters
    ) async {
        let pacer = Pacer(rate: rate, start: start)
        let warmupStarts = Int((plan.warmup.seconds * rate).rounded(.up))
        let sampler = plan.easyIDs.makeSampler()
        await withDiscardingTaskGroup { group in
            var index = 0
            var rng = SystemRandomNumberGenerator()
            while true {
                let intended = pacer.intendedStart(of: index)
                switch plan.limit {
                case .duration(let duration):
                    // The schedule's end, or the clock's when the generator fell behind it: the
                    // duration is a time limit, not a number of calls.
                    if intended >= warmupEnd + duration || ContinuousClock.now >= warmupEnd + duration { return }
                case .count(let count):
                    if index >= warmupStarts + count { return }
                }
                let now = ContinuousClock.now
                if intended > now + .microseconds(200) {
                    try? await Task.sleep(until: intended, clock: .continuous)
                }
                let measured = intended >= warmupEnd
                let easyID = sampler.next(using: &rng)
                let firstClient = index * plan.callsPerPage
                counters.started.add(1, ordering: .relaxed)
                if measured { counters.measuredSent.add(1, ordering: .relaxed) }
                group.addTask {
                    if plan.callsPerPage == 1 {
                        let sent = ContinuousClock.now
                        let outcome = await call(slot: firstClient, easyID: easyID)
                        let end = ContinuousClock.now
                        if measured {
                            recorder.record(corrected: end - intended, uncorrected: end - sent, outcome: outcome)
                            counters.completed(at: end)
                        }
                        return
                    }
                    // A page: K calls at once; its latency is the slowest.
                    let failed = await withTaskGroup(of: Bool.self) { page in
                        for slot in 0..<plan.callsPerPage {
                            page.addTask {
                                let sent = ContinuousClock.now
                                let outcome = await call(slot: firstClient + slot, easyID: easyID)
                                let end = ContinuousClock.now
                                if measured { recorder.record(corrected: end - intended, uncorrected: end - sent, outcome: outcome) }
                                if case .ranked = outcome { return false }
                                return true
                            }
                        }
                        return await page.reduce(false) { $0 || $1 }
                    }
                    let end = ContinuousClock.now
                    if measured {
                        recorder.recordPage(latency: end - intended, failed: failed)
                        counters.completed(at: end)
                    }
                }
                index += 1
            }
        }
    }

    private func runClosed(
        clients: ClientPool,
        workers: Int,
        start: ContinuousClock.Instant,
        warmupEnd: ContinuousClock.Instant,
        recorder: LatencyRecorder,
        counters: RunCounters
    ) async {
        let sampler = plan.easyIDs.makeSampler()
        if case .count(let count) = plan.limit { counters.remaining.store(count, ordering: .relaxed) }
        try? await Task.sleep(until: start, clock: .continuous)
        await withDiscardingTaskGroup { group in
            for worker in 0..<workers {
                group.addTask {
                    var rng = SystemRandomNumberGenerator()
                    while true {
                        if case .duration(let duration) = plan.limit, ContinuousClock.now >= warmupEnd + duration { return }
                        // No connection (the server is away): wait for one instead of counting a
                        // call that was never sent; the pool keeps the downtime.
                        guard let client = await clients.client(worker) else {
                            // A server gone for good ends the worker (a run by count would wait forever).
                            if clients.brokenFor(worker) > Self.giveUpAfter { return }
                            continue
                        }
                        let sent = ContinuousClock.now
                        let measured = sent >= warmupEnd
                        if measured {
                            switch plan.limit {
                            case .duration(let duration):
                                if sent >= warmupEnd + duration { return }
                            case .count:
                                if counters.remaining.subtract(1, ordering: .relaxed).newValue < 0 { return }
                            }
                            counters.measuredSent.add(1, ordering: .relaxed)
                        }
                        counters.started.add(1, ordering: .relaxed)
                        let outcome = await call(client, in: clients, slot: worker, easyID: sampler.next(using: &rng))
                        let end = ContinuousClock.now
                        if measured {
                            recorder.record(corrected: end - sent, uncorrected: end - sent, outcome: outcome)
                            counters.completed(at: end)
                        }
                    }
                }
            }
        }
    }

    /// How long a closed-loop worker waits for a server that went away before it stops.
    static let giveUpAfter = Duration.seconds(30)

    /// One call on `slot`'s connection; a transport error when there is none (open loop: the call
    /// was due and is not served).
    private func call(slot: Int, easyID: String) async -> CallOutcome {
        switch target {
        case .rpc(let clients):
            guard let client = await clients.client(slot) else { return .transport }
            return await call(client, in: clients, slot: slot, easyID: easyID)
        case .http(let peer):
            return await peer.rank(easyID: easyID, topK: plan.topK, timeout: plan.timeout)
        }
    }

    private func call(_ client: CouponRankClient, in clients: ClientPool, slot: Int, easyID: String) async -> CallOutcome {
        do {
            let response = try await client.rank(
                RankRequest(easyID: easyID, topK: plan.topK),
                timeout: plan.timeout,
                budget: plan.budget
            )
            return .ranked(response.timings, degraded: !response.degraded.isEmpty)
        } catch let error as ClientError {
            if let serverError = error.serverError { return .serverError(serverError.code) }
            if error.code == .connectionClosed { clients.broken(slot, client) }
            return .transport
        } catch {
            clients.broken(slot, client)
            return .transport
        }
    }
}

final class RunCounters: Sendable {
    let started = Atomic<Int>(0)
    let measuredSent = Atomic<Int>(0)
    /// Closed loop by count: measured requests still to send.
    let remaining = Atomic<Int>(0)
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    func completed(at instant: ContinuousClock.Instant) {
        last.withLock { last in
            if last == nil || instant > last! { last = instant }
        }
    }

    var lastCompletion: ContinuousClock.Instant? { last.withLock { $0 } }
}
