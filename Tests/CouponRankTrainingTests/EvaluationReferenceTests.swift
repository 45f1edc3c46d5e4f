import CouponRankCore
import CouponRankEvents
import CouponRankTestSupport
import CouponRankTraining
import Foundation
import Testing

/// The estimators on simulated logs with known propensities and a known click model: against
/// the true value, against the definitions, and against an independent implementation — plain
/// Python always, Open Bandit Pipeline 0.4.1 with `COUPONRANK_OBP_CHECK=1`
/// (`Reference/obp_venv.sh` installs it into `.build/obp-venv`, about 1.5 minutes the first time).
@Suite struct EvaluationReferenceTests {
    typealias F = EvaluationFixtures

    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Reference")
    static let obpEnabled = ProcessInfo.processInfo.environment["COUPONRANK_OBP_CHECK"] == "1"

    /// 600 decisions × 5 slots from 200 eligible coupons each, logged by the bundled model
    /// exploring ε-greedily (ε = 0.2) and by softmax (T = 0.05).
    static let epsilonLogger = Result { try F.bundled(version: "logger-epsilon", exploration: .epsilonGreedy(epsilon: 0.2)) }
    static let softmaxLogger = Result { try F.bundled(version: "logger-softmax", exploration: .softmax(temperature: 0.05)) }
    static let epsilonLog = Result { F.simulatedLog(logger: try epsilonLogger.get(), count: 600, seed: 1) }
    static let softmaxLog = Result { F.simulatedLog(logger: try softmaxLogger.get(), count: 600, seed: 2) }

    /// Targets that differ from the loggers: the same model greedy or with another policy, and a
    /// model whose weights are halved (its exploration bonus then counts twice as much).
    static func cases() throws -> [(name: String, log: [F.SimulatedDecision], evaluator: OffPolicyEvaluator)] {
        let halved = try F.bundled(version: "halved", exploration: .softmax(temperature: 0.05), thetaScale: 0.5)
        return [
            ("epsilon-log.greedy", try epsilonLog.get(), OffPolicyEvaluator(model: try epsilonLogger.get(), policy: .greedy)),
            ("epsilon-log.halved-softmax", try epsilonLog.get(), OffPolicyEvaluator(model: halved)),
            ("softmax-log.epsilon", try softmaxLog.get(), OffPolicyEvaluator(model: try softmaxLogger.get(), policy: .fixed(.epsilonGreedy(epsilon: 0.1)))),
            ("softmax-log.halved-greedy", try softmaxLog.get(), OffPolicyEvaluator(model: halved, policy: .greedy)),
        ]
    }

    /// Each case's export in a fresh temporary folder.
    static func exports() throws -> (folder: URL, files: [String], evaluations: [OffPolicyEvaluation]) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("couponrank-ope-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var files: [String] = []
        var evaluations: [OffPolicyEvaluation] = []
        for (name, log, evaluator) in try cases() {
            let (evaluation, json) = evaluator.banditFeedback(for: log.map(\.closed))
            let file = folder.appendingPathComponent("\(name).json")
            try Data(json.utf8).write(to: file)
            files.append(file.path)
            evaluations.append(evaluation)
        }
        return (folder, files, evaluations)
    }

    @Test func theSimulatedLogsHoldTheirPropensitiesAndEveryEligibleCoupon() throws {
        let log = try Self.epsilonLog.get()
        let rows = log.reduce(0) { $0 + $1.closed.decision.items.count }
        #expect(log.count == 600 && rows == 3000)
        #expect(log.allSatisfy { $0.closed.decision.items.count + ($0.closed.decision.candidates?.count ?? 0) == $0.closed.decision.eligible })
        #expect(log.allSatisfy { $0.closed.decision.eligible >= 150 })
    }

    @Test func targetProbabilitiesFollowTheDefinitionsForEveryRow() throws {
        for (name, log, evaluator) in try Self.cases() {
            let evaluation = evaluator.evaluate(log.map(\.closed))
            var checked = 0
            for row in evaluation.rows {
                let logged = log[row.decision].closed.decision
                let coupons = logged.items.map(\.coupon) + (logged.candidates ?? []).map(\.coupon)
                let stats = logged.items.map(\.stats) + (logged.candidates ?? []).map(\.stats)
                let model = evaluator.model
                let scored = model.score(model.schema.makeContexts(user: logged.user, candidates: coupons, stats: CouponStatsTable(couponIDs: coupons.map(\.id), entries: stats)))
                let k = row.slot - 1
                let probabilities = F.referenceTargetProbabilities(scores: scored.scores, ids: coupons.map(\.id), slot: k, policy: evaluator.policy)
                let direct = zip(probabilities, scored.probabilities[k...]).reduce(0) { $0 + $1.0 * $1.1 }
                #expect(EvaluationTests.close(row.targetProbability, probabilities[0], tolerance: 1e-12), "\(name) decision \(row.decision) slot \(row.slot)")
                #expect(EvaluationTests.close(row.directValue, direct, tolerance: 1e-12), "\(name) decision \(row.decision) slot \(row.slot)")
                #expect(row.estimatedReward == scored.probabilities[k])
                checked += 1
                if checked == 400 { break }
            }
        }
    }

    @Test func ipsEqualsTheObservedValueWhenTheTargetIsTheLoggingPolicy() throws {
        for (logger, log) in [(try Self.epsilonLogger.get(), try Self.epsilonLog.get()), (try Self.softmaxLogger.get(), try Self.softmaxLog.get())] {
            let evaluation = OffPolicyEvaluator(model: logger).evaluate(log.map(\.closed))
            // The target recomputes the logger's own propensities, so every weight is 1.
            #expect(evaluation.rows.allSatisfy { abs($0.weight - 1) < 1e-9 }, "\(logger.version)")
            #expect(abs(evaluation.inverseProbability.value - evaluation.observed.value) < 1e-9)
            #expect(abs(evaluation.selfNormalized.value - evaluation.observed.value) < 1e-9)
            #expect(abs(evaluation.effectiveSampleSize - Double(evaluation.rowCount)) < 1e-6)
            // And IPS is near the logging policy's true value (from the generator's click model):
            // within 3.29 standard errors (99.9 %), as below.
            let truth = F.trueValue(of: logger, policy: logger.exploration, on: log)
            let ips = evaluation.inverseProbability
            #expect(abs(ips.value - truth) <= 3.29 * ips.standardError, "\(logger.version): truth \(truth), IPS \(ips)")
        }
    }

    @Test func ipsSnipsAndDRCoverTheTrueValueOfOtherPolicies() throws {
        for (name, log, evaluator) in try Self.cases() {
            let evaluation = evaluator.evaluate(log.map(\.closed))
            let truth = F.trueValue(of: evaluator.model, policy: evaluator.policy, on: log)
            // 3.29 standard errors (99.9 %): a fixed seed either passes or not; this bound leaves
            // room for a change of simulation that is still correct.
            for (estimator, estimate) in [("IPS", evaluation.inverseProbability), ("SNIPS", evaluation.selfNormalized), ("DR", evaluation.doublyRobust)] {
                #expect(abs(estimate.value - truth) <= 3.29 * estimate.standardError, "\(name) \(estimator): \(estimate.value) ± \(estimate.standardError), truth \(truth)")
            }
            // The targets differ from the loggers: the weights are not all 1.
            #expect(evaluation.effectiveSampleSize < 0.9 * Double(evaluation.rowCount), "\(name)")
        }
    }

    @Test func theGuardRefusesACandidateThatIsClearlyWorseAndHasNoVerdictOnTooFewDecisions() throws {
        let serving = try Self.epsilonLogger.get()
        // ε = 1: the candidate shows uniformly drawn coupons, far worse than the serving model's
        // choices, and the ε-greedy log covers it well.
        let uniform = try F.bundled(version: "uniform", exploration: .epsilonGreedy(epsilon: 1))
        let window = try Self.epsilonLog.get().map(\.closed)
        let (verdict, comparison) = OffPolicyPublishGuard(margin: 0.005).verdictAndComparison(candidate: uniform, serving: serving, window: window)
        #expect(!verdict.allowsPublish, "\(verdict)")
        #expect(comparison.isWorse(margin: 0.005) && comparison.decisions == 600)
        #expect(verdict.reason.hasPrefix("refused") && verdict.reason.contains("uniform − logger-epsilon"), "\(verdict)")
        let itself = OffPolicyPublishGuard(margin: 0.005).verdict(candidate: serving, serving: serving, window: window)
        #expect(itself.allowsPublish && itself.reason.hasPrefix("allowed"), "\(itself)")
        let few = OffPolicyPublishGuard(margin: 0.005, minimumDecisions: 1000).verdict(candidate: uniform, serving: serving, window: window)
        #expect(few.allowsPublish && few.reason.hasPrefix("no verdict: 600 evaluable decisions"), "\(few)")
    }

    @Test func exportedEstimatesAgreeWithThePlainPythonFormulas() async throws {
        let (folder, files, _) = try Self.exports()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (status, output) = try await runChildProcess(["python3", Self.reference.appendingPathComponent("obp_check.py").path, "--plain", "--rtol", "1e-9"] + files)
        #expect(status == 0, "\(output)")
        #expect(output.contains("agree: 0 of 12"), "\(output)")
    }

    @Test(.enabled(if: obpEnabled, "set COUPONRANK_OBP_CHECK=1 to install and run Open Bandit Pipeline (make ope-check)"))
    func exportedEstimatesAgreeWithOpenBanditPipeline() async throws {
        let (folder, files, _) = try Self.exports()
        defer { try? FileManager.default.removeItem(at: folder) }
        let setup = try await runChildProcess(["bash", Self.reference.appendingPathComponent("obp_venv.sh").path], timeout: .seconds(1200))
        try #require(setup.status == 0, "obp_venv.sh failed: \(setup.output)")
        let python = try #require(setup.output.split(separator: "\n").last.map(String.init))
        let (status, output) = try await runChildProcess([python, Self.reference.appendingPathComponent("obp_check.py").path, "--rtol", "1e-9"] + files, timeout: .seconds(300))
        #expect(status == 0, "\(output)")
        #expect(output.contains("agree: 0 of 12"), "\(output)")
        print(output)
    }
}
