import ArgumentParser
import CouponRankBatch
import CouponRankClient
import CouponRankCore
import CouponRankModelStore
import CouponRankWire
import Foundation
import Logging

struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Rank a CSV of customers into a CSV of offers, in process or on a running engine.",
        discussion: """
            INPUT: CSV (RFC 4180, UTF-8) with a header row and one row per customer. The easy_id \
            column is required. Any other column is a user feature named after it (column `age` is the \
            model's user.age), used instead of fetching the user's features: columns named in \
            --numeric-columns are numbers, every other one is a category (its text as is); an empty value \
            leaves that feature out. Without feature columns, the user features come from the engine's \
            source, as online. Candidates and CTR/CVR statistics always come from the sources.

            OUTPUT: easy_id, offer_N_id, offer_N_name, offer_N_score for N = 1…top-k, status (ok, \
            no_eligible_coupon, or error:<reason>), in input order. Rows are ranked greedily (no \
            exploration) with event id <prefix>-<line>, so a rerun gives the same offers. Bad rows (wrong \
            column count, empty or over-128-byte easy_id, a numeric feature that is not a number, a blank \
            line) are reported on stderr by line and left out; the summary counts them by reason. The \
            file is written to OUTPUT.partial and renamed to OUTPUT when complete.

            --server HOST:PORT ranks on a running engine instead: only easy_id is sent (the protocol has \
            no user-feature field), so the server's sources provide the features; a file with feature \
            columns is refused unless --ignore-feature-columns. The in-process engine options below \
            apply to in-process runs only.
            """
    )

    @Option(help: "The customer CSV.")
    var input: String?

    @Option(help: "The offer CSV to write (with --generate-example: the example customer CSV).")
    var output: String

    @Option(help: "Rank on this running engine, HOST:PORT, instead of in process. Sends only easy_id.")
    var server: ServerAddress?

    @Option(help: "With --server: connections to it (the server ranks each connection's requests on one event loop, so one connection uses one of its cores).")
    var connections = 4

    @Option(help: "Offers per customer.")
    var topK = 5

    @Option(help: "Feature columns read as numbers, comma-separated (e.g. age,tenure_days); other feature columns are categories.")
    var numericColumns: String?

    @Flag(help: "With --server: rank a file that has feature columns, ignoring them (refused otherwise).")
    var ignoreFeatureColumns = false

    @Option(help: "Also write the summary as JSON to this file.")
    var summaryJson: String?

    @Option(help: "Deadline of each row's ranking in milliseconds; with --server, each call's timeout and budget.")
    var budgetMs = 1000

    @Option(help: "Rows ranked at once when ranking waits (--server, HTTP sources, injected latency); in process from memory, two chunks per core.")
    var maxInFlight = 64

    @Option(help: "Each row's event id is <prefix>-<line>.")
    var eventIdPrefix = BatchEventIDs.defaultPrefix

    @Flag(help: "No progress line, even on a terminal.")
    var quiet = false

    @Option(help: "Write an example customer CSV of this many rows to --output instead of ranking.")
    var generateExample: Int?

    @Flag(help: "With --generate-example: add the stub users' features as columns (rank with --numeric-columns \(ExampleCustomers.numericColumns.joined(separator: ","))).")
    var exampleFeatures = false

    @Option(help: "Log level of the model store client: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "warning"

    @OptionGroup(title: "In-process engine (not with --server)")
    var engineOptions: EngineOptions

    func validate() throws {
        if let generateExample {
            guard generateExample >= 0 else { throw ValidationError("--generate-example must be at least 0") }
            guard input == nil, server == nil else { throw ValidationError("--generate-example writes a file: no --input or --server") }
            return
        }
        guard input != nil else { throw ValidationError("--input is required (or --generate-example N)") }
        guard (1...WireLimits.maximumTopK).contains(topK) else { throw ValidationError("--top-k must be in 1...\(WireLimits.maximumTopK)") }
        guard budgetMs > 0 else { throw ValidationError("--budget-ms must be positive") }
        guard maxInFlight > 0 else { throw ValidationError("--max-in-flight must be positive") }
        guard (1...64).contains(connections) else { throw ValidationError("--connections must be in 1...64") }
        guard BatchEventIDs(prefix: eventIdPrefix) != nil else {
            throw ValidationError(
                "--event-id-prefix must be 1 to \(BatchEventIDs.maximumPrefixBytes) bytes of A-Z a-z 0-9 . _ : -, got '\(eventIdPrefix)'"
            )
        }
        guard !ignoreFeatureColumns || server != nil else { throw ValidationError("--ignore-feature-columns applies to --server only") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level '\(logLevel)' is unknown") }
    }

    func run() async throws {
        if let generateExample {
            try ExampleCustomers.write(rows: generateExample, features: exampleFeatures ? engineOptions.makeStubGenerator() : nil, to: output)
            print("wrote \(generateExample) customers to \(output)")
            return
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
            return handler
        }
        let console = BatchConsole(showsProgress: !quiet && isatty(STDERR_FILENO) == 1)
        do {
            let summary = try await rank(console: console)
            console.finish()
            print(summary.text)
            if let summaryJson { try write(summary, to: summaryJson) }
        } catch let error as BatchError {
            console.finish()
            console.write("error: \(error)")
            throw ExitCode(error.code == .invalidHeader || error.code == .invalidOptions ? 64 : 1)
        }
    }

    private func rank(console: BatchConsole) async throws -> BatchSummary {
        let numeric = Set((numericColumns ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        let reader = try CustomerFileReader(path: input!, numericColumns: numeric, ignoresFeatures: ignoreFeatureColumns)
        let columns = reader.columns
        let eventIDs = BatchEventIDs(prefix: eventIdPrefix)!
        let format = OfferCSV(topK: topK)

        if let server {
            try ServerBatchRanker.check(columns, path: reader.path)
            var clients: [CouponRankClient] = []
            func closeAll() async {
                for client in clients { await client.close() }
            }
            do {
                for _ in 0..<connections {
                    clients.append(try await CouponRankClient.connect(host: server.host, port: server.port))
                }
            } catch {
                await closeAll()
                throw BatchError(.server, "cannot connect to \(server.defaultValueDescription)", underlying: error)
            }
            let output: OfferFileWriter
            do {
                output = try OfferFileWriter(path: self.output)
            } catch {
                await closeAll()
                throw error
            }
            let runner = BatchRunner(
                ranker: ServerBatchRanker(clients: clients, topK: topK, eventIDs: eventIDs, timeout: .milliseconds(budgetMs)),
                format: format,
                configuration: .waiting(maximumInFlight: maxInFlight)
            )
            do {
                let summary = try await runner.run(
                    input: reader,
                    output: output,
                    mode: "server \(server.defaultValueDescription)",
                    onProblem: console.problem,
                    onProgress: console.progress
                )
                await closeAll()
                return summary
            } catch {
                await closeAll()
                throw error
            }
        }

        let logger = Logger(label: "couponrank")
        let models = try engineOptions.loadModel()
        let rules = try engineOptions.loadRules()
        if let store = try engineOptions.makeModelStore(logger: logger) {
            do {
                models.swap(to: try await store.loadCurrent(), origin: .redis)
            } catch {
                throw BatchError(.model, "no model loaded from \(store.redis.url)", underlying: error)
            }
            // The rules engines apply now, as online; none published keeps --rules (or none).
            let rulesStore = RulesStore(redis: store.redis, keys: store.keys)
            do {
                if let version = try await rulesStore.currentVersion() {
                    rules.swap(to: try await rulesStore.load(version: version), origin: "redis")
                }
            } catch {
                throw BatchError(.model, "the current rules in \(store.redis.url) cannot be applied", underlying: error)
            }
        }
        for mismatch in columns.mismatches(with: models.current.model.definition.features) {
            console.write("warning: \(mismatch)")
        }
        let upstreams = engineOptions.makeUpstreams()
        defer { upstreams.http.shutdown() }
        let sources = engineOptions.makeSources(upstreams: upstreams)
        let engine = engineOptions.makeEngine(
            sources: columns.hasFeatures ? sources.withUserFeaturesFromRows() : sources,
            models: models,
            defaultTopK: topK,
            rules: rules
        )
        let output = try OfferFileWriter(path: self.output)
        let runner = BatchRunner(
            ranker: EngineBatchRanker(engine: engine, topK: topK, eventIDs: eventIDs, budget: .milliseconds(budgetMs)),
            format: format,
            configuration: engine.answersFromMemory
                ? .cpuBound(cores: ProcessInfo.processInfo.activeProcessorCount) : .waiting(maximumInFlight: maxInFlight)
        )
        return try await runner.run(
            input: reader,
            output: output,
            mode: "in-process, model \(models.current.model.version) (\(models.current.origin))"
                + (rules.current.rules.version.isEmpty ? "" : ", rules \(rules.current.rules.version) (\(rules.current.origin))"),
            onProblem: console.problem,
            onProgress: console.progress
        )
    }

    private func write(_ summary: BatchSummary, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(summary).write(to: URL(fileURLWithPath: path))
        } catch {
            FileHandle.standardError.write(Data("error: cannot write the summary to \(path): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
