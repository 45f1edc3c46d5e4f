import CouponRankCore
public import CouponRankEngine
import CouponRankServer
import CouponRankWire
import Foundation
import Synchronization
import Hummingbird
public import Logging
public import Prometheus
public import ServiceLifecycle

/// Settings of the ops HTTP port.
public struct OpsConfiguration: Sendable, Hashable {
    /// Loopback unless configured otherwise: the port exposes rankings and metrics.
    public var host: String
    public var port: Int
    /// Budget of a `/v1/rank` request, cut to the admission's maximum budget.
    public var rankBudget: Duration
    /// A connection that sends nothing for this long is closed, so idle or abandoned clients
    /// cannot hold the process's descriptors.
    public var idleTimeout: Duration
    /// The engine's version, exported as `couponrank_build_info{version}`.
    public var buildVersion: String

    public init(
        host: String = "127.0.0.1",
        port: Int = 7421,
        rankBudget: Duration = .milliseconds(100),
        idleTimeout: Duration = .seconds(30),
        buildVersion: String = "dev"
    ) {
        self.host = host
        self.port = port
        self.rankBudget = rankBudget
        self.idleTimeout = idleTimeout
        self.buildVersion = buildVersion
    }
}

/// The ops HTTP port (proto-spec/OPS.openapi.yaml): liveness, readiness, Prometheus metrics,
/// and JSON views of rankings and of the model for debugging and HTTP-only callers.
public enum OpsServer {
    public static func makeApplication(
        configuration: OpsConfiguration,
        engine: RankEngine,
        admission: AdmissionController,
        rewards: RewardIntake = RewardIntake(token: nil, sink: nil),
        registry: PrometheusCollectorRegistry,
        componentStates: @escaping @Sendable () -> [(name: String, state: String)] = { [] },
        logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) -> some Service {
        let router = Router()
        let scrape = ScrapeGauges(registry: registry)
        registry.makeGauge(descriptor: ScrapeGauges.buildInfo, labels: [("version", configuration.buildVersion)]).set(to: 1)

        router.get("/healthz") { _, _ -> Response in
            json(.ok, ["status": "alive"] as [String: String])
        }

        router.get("/readyz") { _, _ -> Response in
            if admission.isDraining {
                return json(.serviceUnavailable, Readiness(ready: false, reason: "draining: finishing requests in flight before shutdown", modelVersion: nil))
            }
            return json(.ok, Readiness(ready: true, reason: nil, modelVersion: engine.models.current.model.version))
        }

        router.get("/metrics") { _, _ -> Response in
            scrape.update(models: engine.models, components: componentStates())
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: MetricHelp.adding(to: registry.emitToBuffer()))))
        }

        router.get("/v1/model") { _, _ -> Response in
            let loaded = engine.models.current
            let definition = loaded.model.definition
            return json(.ok, ModelSummary(
                version: definition.version,
                kind: definition.kind.rawValue,
                dimension: loaded.model.dimension,
                createdAt: definition.createdAt,
                origin: loaded.origin.description,
                alpha: definition.kind == .linucb ? definition.alpha : nil,
                features: definition.features.features.map(FeatureSummary.init)
            ))
        }

        router.get("/v1/rank") { request, _ -> Response in
            let query = request.uri.queryParameters
            // Decoded here from the raw query: a decoder that repairs invalid UTF-8 would rank
            // another easy_id than the one sent (PROTOCOL.md §2 requires rejection).
            guard let easyID = Self.utf8QueryValue("easy_id", in: request.uri.query ?? "") else {
                return json(.badRequest, ["error": "INVALID_ARGUMENT", "message": "easy_id is not valid UTF-8"] as [String: String])
            }
            guard !easyID.isEmpty, easyID.utf8.count <= WireLimits.maximumEasyIDBytes else {
                return json(.badRequest, ["error": "INVALID_ARGUMENT", "message": "easy_id must be 1 to 128 bytes"] as [String: String])
            }
            var topK = 0
            if let text = query.get("top_k") {
                guard let value = Int(text), (0...WireLimits.maximumTopK).contains(value) else {
                    return json(.badRequest, ["error": "INVALID_ARGUMENT", "message": "top_k must be an integer in 0...\(WireLimits.maximumTopK)"] as [String: String])
                }
                topK = value
            }
            let eventID = query.get("event_id").flatMap { $0.isEmpty ? nil : String($0) }
            let explore = query.get("explore")
            guard explore == nil || explore == "true" || explore == "false" else {
                return json(.badRequest, ["error": "INVALID_ARGUMENT", "message": "explore must be true or false"] as [String: String])
            }
            let policy: PolicyFlags = explore == "false" ? .noExploration : []
            var caps = DiversityCaps()
            for (name, keyPath) in [("max_per_shop", \DiversityCaps.maximumPerShop), ("max_per_category", \DiversityCaps.maximumPerCategory)] {
                guard let text = query.get(name) else { continue }
                guard let value = Int(text), (0...Int(UInt16.max)).contains(value) else {
                    return json(.badRequest, ["error": "INVALID_ARGUMENT", "message": "\(name) must be an integer in 0...65535"] as [String: String])
                }
                caps[keyPath: keyPath] = value == 0 ? nil : value
            }
            let receivedAt = ContinuousClock.now
            let deadline = admission.deadline(receivedAt: receivedAt, budget: configuration.rankBudget)
            let outcome: Result<Decision, RankError>
            do throws(RankError) {
                let ticket = try admission.admit(receivedAt: receivedAt, deadline: deadline)
                do throws(RankError) {
                    outcome = .success(try await engine.rank(
                        DecisionRequest(
                            easyID: easyID, topK: topK, deadline: deadline, receivedAt: receivedAt, eventID: eventID, policy: policy, diversity: caps
                        )
                    ))
                } catch {
                    outcome = .failure(error)
                }
                admission.finish(ticket, outcome: outcome)
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let decision):
                return json(.ok, RankJSON(easyID: easyID, response: RankResponse(decision)))
            case .failure(let error):
                let wire = WireError(error)
                return json(httpStatus(for: wire.code), ["error": wire.code.name, "message": wire.message] as [String: String])
            }
        }

        // Off (404) unless a reward token is configured: a reward trains the model.
        if rewards.token != nil {
            router.post("/v1/events/{event_id}/rewards") { request, context -> Response in
                // Path parameters arrive percent-encoded; an escape that does not decode is kept
                // as sent, and then refused by the event id's alphabet.
                let rawEventID = context.parameters.get("event_id") ?? ""
                let eventID = rawEventID.removingPercentEncoding ?? rawEventID
                let token = request.headers[.authorization].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : $0 } ?? ""
                let reward: RewardJSON
                do {
                    reward = try await request.decode(as: RewardJSON.self, context: context)
                } catch {
                    return json(.badRequest, ["error": "INVALID_ARGUMENT", "message": "the body is not a reward: \(error)"] as [String: String])
                }
                do throws(RewardIntake.Refusal) {
                    try rewards.accept(
                        token: token,
                        eventID: eventID,
                        couponID: reward.couponID,
                        kind: Reward.Kind(rawValue: reward.kind),
                        value: reward.value ?? 1,
                        unixMillis: reward.timeMillis
                    )
                } catch {
                    let status: HTTPResponse.Status = switch error.code {
                    case .disabled, .unauthenticated: .unauthorized
                    case .noLog: .serviceUnavailable
                    case .invalid: .badRequest
                    case .dropped: .serviceUnavailable
                    }
                    return json(status, ["error": WireError(error).code.name, "message": error.message] as [String: String])
                }
                return json(.accepted, ["status": "accepted"] as [String: String])
            }
        }

        // A method the document does not declare on a path that exists: 405 naming the ones it does.
        var paths: [(String, [HTTPRequest.Method])] = ["/healthz", "/readyz", "/metrics", "/v1/model", "/v1/rank"].map { ($0, [.get]) }
        if rewards.token != nil { paths.append(("/v1/events/{event_id}/rewards", [.post])) }
        for (path, allowed) in paths {
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            for method in Self.undeclaredMethods where !allowed.contains(method) {
                router.on(RouterPath(path), method: method) { _, _ -> Response in
                    var response = json(.methodNotAllowed, ["error": "METHOD_NOT_ALLOWED", "message": "\(path) answers \(allow) only"] as [String: String])
                    response.headers[.allow] = allow
                    return response
                }
            }
        }

        let application = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(configuration.idleTimeout.nanoseconds))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "couponrank-ops"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        return OpsService(application: application, host: configuration.host, port: configuration.port)
    }

    /// The value of `name` in a raw (percent-encoded) query, decoded; "" when absent, `nil` when
    /// its bytes are not UTF-8.
    static func utf8QueryValue(_ name: String, in query: String) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.first == Substring(name) else { continue }
            var bytes: [UInt8] = []
            var input = Array((parts.count > 1 ? parts[1] : "").utf8)[...]
            while let byte = input.popFirst() {
                if byte == UInt8(ascii: "%"), input.count >= 2,
                    let value = UInt8(String(decoding: input.prefix(2), as: UTF8.self), radix: 16)
                {
                    bytes.append(value)
                    input = input.dropFirst(2)
                } else {
                    bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                }
            }
            return String(validating: bytes, as: UTF8.self)
        }
        return ""
    }

    /// The methods a path may be asked for besides its own: RFC 9110's, PATCH, and QUERY (the
    /// safe method with a body being standardised, which clients such as schemathesis send).
    static let undeclaredMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options, .trace, .connect]
        + [HTTPRequest.Method("QUERY")!]

    static func httpStatus(for code: ErrorCode) -> HTTPResponse.Status {
        switch code {
        case .invalidArgument, .malformedPayload: .badRequest
        case .noCandidates: .notFound
        case .deadlineExceeded: .gatewayTimeout
        case .upstreamUnavailable: .badGateway
        case .overloaded, .shuttingDown, .modelUnavailable: .serviceUnavailable
        default: .internalServerError
        }
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = (try? encoder.encode(value)) ?? Data(#"{"error":"INTERNAL"}"#.utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

}

/// The ops application as a service whose failure to open its port names the port.
struct OpsService<Wrapped: Service>: Service {
    let application: Wrapped
    let host: String
    let port: Int

    func run() async throws {
        do {
            try await application.run()
        } catch {
            let text = "\(error)"
            guard text.contains("bind") || text.contains("in use") else { throw error }
            throw ListenError(port: "ops", host: host, number: port, underlying: error)
        }
    }
}

/// Gauges computed when Prometheus scrapes: the model's age and identity, breaker states.
final class ScrapeGauges: Sendable {
    let registry: PrometheusCollectorRegistry
    static var loadAge: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "couponrank_model_load_age",
            unitName: "seconds",
            helpText: "Seconds since the model in use was loaded by this engine"
        )
    }
    static var trainingAge: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "couponrank_model_age",
            unitName: "seconds",
            helpText: "Seconds since the model in use was trained (its created_at); 0 when unknown"
        )
    }
    static var residentMemory: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "process_resident_memory", unitName: "bytes", helpText: "Resident memory of the engine process")
    }
    static var cpu: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "process_cpu", unitName: "seconds", helpText: "User and system CPU time of the engine process since it started")
    }
    static var openDescriptors: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "process_open_fds", unitName: "", helpText: "File descriptors the engine process holds open")
    }
    static var buildInfo: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "couponrank_build_info",
            unitName: "",
            helpText: "The engine's version (always 1)"
        )
    }
    static var info: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "couponrank_model_info",
            unitName: "",
            helpText: "The model in use (1) and the ones it replaced (0)"
        )
    }
    static var breaker: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "couponrank_upstream_breaker_state",
            unitName: "",
            helpText: "Circuit breaker of an upstream: 0 closed, 1 half-open, 2 open"
        )
    }

    static var redisPrimary: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "couponrank_redis_primary_info",
            unitName: "",
            helpText: "The Redis primary the engine uses, named by its sentinels (1), and the ones before a failover (0)"
        )
    }

    /// The labels of the model series last set to 1, to set them to 0 after a swap.
    private let previousModel = Mutex<[(String, String)]?>(nil)
    /// The Redis primary last reported, to set it to 0 after a failover.
    private let previousPrimary = Mutex<String?>(nil)

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// The process's memory, CPU time and descriptors from /proc (Linux; nothing elsewhere).
    func updateProcess() {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        {
            registry.makeGauge(descriptor: Self.residentMemory).set(to: kilobytes * 1024)
        }
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
                let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
                registry.makeGauge(descriptor: Self.cpu).set(to: (user + system) / ticks)
            }
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            registry.makeGauge(descriptor: Self.openDescriptors).set(to: Double(descriptors.count))
        }
    }

    func update(models: ModelSlot, components: [(name: String, state: String)]) {
        updateProcess()
        let loaded = models.current
        let age = ContinuousClock.now - loaded.loadedAt
        registry.makeGauge(descriptor: Self.loadAge).set(to: Double(age.components.seconds))
        registry.makeGauge(descriptor: Self.trainingAge).set(to: Double(ModelAge.seconds(createdAt: loaded.model.definition.createdAt)))
        let labels = [("version", loaded.model.version), ("origin", loaded.origin.description), ("kind", loaded.model.kind.rawValue)]
        previousModel.withLock { previous in
            if let previous, previous.map(\.1) != labels.map(\.1) {
                registry.makeGauge(descriptor: Self.info, labels: previous).set(to: 0)
            }
            previous = labels
        }
        registry.makeGauge(descriptor: Self.info, labels: labels).set(to: 1)
        // Breakers only (the health components also list the event logs and exploration), labelled
        // by the upstream's own name: `upstream="candidates"`, not `upstream="upstream.candidates"`.
        for component in components where component.name.hasPrefix("upstream.") {
            let value: Double = switch component.state {
            case "open": 2
            case "half_open": 1
            default: 0
            }
            registry.makeGauge(descriptor: Self.breaker, labels: [("upstream", String(component.name.dropFirst("upstream.".count)))])
                .set(to: value)
        }
        if let primary = components.first(where: { $0.name == "redis.primary" })?.state {
            previousPrimary.withLock { previous in
                if let previous, previous != primary {
                    registry.makeGauge(descriptor: Self.redisPrimary, labels: [("node", previous)]).set(to: 0)
                }
                previous = primary
            }
            registry.makeGauge(descriptor: Self.redisPrimary, labels: [("node", primary)]).set(to: 1)
        }
    }
}
