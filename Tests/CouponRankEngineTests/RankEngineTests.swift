import CouponRankCore
import CouponRankEngine
import CouponRankSources
import CouponRankTestSupport
import Synchronization
import Testing

/// The engine without any transport: requests in, decisions or errors out.
@Suite struct RankEngineTests {
    private let models: ModelSlot
    private let engine: RankEngine

    init() throws {
        models = ModelSlot(try TestServer.bundledModel(), origin: .embedded)
        engine = RankEngine(sources: .stubs(TestServer.generator, timeouts: TestServer.relaxedTimeouts), models: models)
    }

    private func request(_ easyID: String, topK: Int = 5, excluded: Set<String> = [], budget: Duration = .seconds(5)) -> DecisionRequest {
        DecisionRequest(easyID: easyID, topK: topK, excluded: excluded, deadline: .now + budget)
    }

    @Test func aDecisionScoresEveryEligibleCandidateAndShowsTheBestInOrder() async throws {
        let all = TestServer.generator.candidates(for: "4242")
        let excluded = Set(all.prefix(3).map(\.id))
        let decision = try await engine.rank(request("4242", excluded: excluded))

        #expect(decision.easyID == "4242")
        #expect(decision.modelVersion == models.current.model.version)
        #expect(decision.degraded.isEmpty)
        #expect(decision.candidates.count == all.count - 3)
        #expect(decision.scores.scores.count == decision.candidates.count)
        #expect(decision.scores.probabilities.count == decision.candidates.count)
        #expect(!decision.candidates.contains { excluded.contains($0.id) })
        #expect(decision.ranked.count == 5)
        #expect(zip(decision.ranked, decision.ranked.dropFirst()).allSatisfy { $0.score >= $1.score })
        let full = decision.fullRanking()
        #expect(full.count == Set(decision.candidates.map(\.id)).count)
        #expect(Array(full.prefix(5)) == decision.ranked)
        #expect(decision.timings.total >= decision.timings.fetch)
    }

    @Test func theSynchronousPathDecidesExactlyLikeTheAsynchronousOne() async throws {
        var scratch = ContextBatch()
        for easyID in ["1", "77", "123456"] {
            let fromMemory = try #require(try engine.rankFromMemory(request(easyID), scratch: &scratch))
            let awaited = try await engine.rank(request(easyID))
            #expect(fromMemory.ranked == awaited.ranked)
            #expect(fromMemory.scores.scores == awaited.scores.scores)
        }
    }

    @Test func aSourceThatMustWaitIsNotAnsweredFromMemory() throws {
        let slow = RankEngine(
            sources: .scripted(candidates: ScriptedSource { _ in .delay(.milliseconds(1)) }),
            models: models
        )
        #expect(!slow.answersFromMemory)
        var scratch = ContextBatch()
        #expect(try slow.rankFromMemory(request("1"), scratch: &scratch) == nil)
    }

    @Test func aFailedCandidateSourceKeepsItsCause() async throws {
        // Generous deadlines: the subject is the cause, not the clock of a busy test machine.
        let broken = RankEngine(
            sources: .scripted(
                candidates: ScriptedSource { _ in .fail },
                timeouts: SourceTimeouts(userFeatures: .seconds(30), candidates: .seconds(30), stats: .seconds(30))
            ),
            models: models
        )
        let error = try await #require(throws: RankError.self) { try await broken.rank(request("9", budget: .seconds(30))) }
        #expect(error.code == .candidatesUnavailable)
        let sourceError = try #require(error.underlying as? SourceError)
        #expect(sourceError.code == .candidatesUnavailable)
        let cause = try #require(sourceError.underlying as? TestServerError)
        #expect(cause.description.contains("scripted failure for 9"))
    }

    @Test func aUserWithoutCandidatesIsNoCandidates() async throws {
        let empty = StubDataGenerator(configuration: .init(catalogSize: 10, candidatesPerUser: 0))
        let engine = RankEngine(sources: .stubs(empty), models: models)
        let error = try await #require(throws: RankError.self) { try await engine.rank(request("1")) }
        #expect(error.code == .noCandidates)
        var scratch = ContextBatch()
        #expect(throws: RankError.self) { try engine.rankFromMemory(request("1"), scratch: &scratch) }
    }

    @Test func aDecisionReadyAfterTheDeadlineIsDeadlineExceeded() async throws {
        let error = try await #require(throws: RankError.self) {
            try await engine.rank(DecisionRequest(easyID: "5", deadline: .now - .milliseconds(1)))
        }
        #expect(error.code == .deadlineExceeded)
    }

    @Test func aModelSwappedMidRequestDoesNotReachThatRequest() async throws {
        let before = models.current.model
        let fetched = try await engine.fetch(request("31"))
        var definition = before.definition
        definition.version = "reversed"
        definition.theta = definition.theta.map { -$0 }
        let reversed = try ScoringModel(definition)
        models.swap(to: reversed, origin: .file)
        var scratch = ContextBatch()
        let decision = try engine.decide(request("31"), inputs: fetched, scratch: &scratch)
        #expect(decision.modelVersion == before.version)
        let rescored = before.score(before.schema.makeContexts(user: fetched.sources.user, candidates: decision.candidates, stats: fetched.sources.stats))
        #expect(decision.scores.scores == rescored.scores)
        // The next request uses the new model.
        #expect(try await engine.rank(request("31")).modelVersion == "reversed")
    }

    @Test func everyDecisionReachesTheSink() async throws {
        final class Collector: DecisionSink {
            let seen = Mutex<[String]>([])
            func record(_ decision: Decision) { seen.withLock { $0.append(decision.easyID) } }
        }
        let sink = Collector()
        let engine = RankEngine(sources: .stubs(TestServer.generator), models: models, sink: sink)
        _ = try await engine.rank(request("a"))
        var scratch = ContextBatch()
        _ = try engine.rankFromMemory(request("b"), scratch: &scratch)
        _ = try? await engine.rank(DecisionRequest(easyID: "late", deadline: .now - .seconds(1)))
        #expect(sink.seen.withLock { $0 } == ["a", "b"])
    }

    @Test func reusedScratchGivesTheSameScoresAsFreshStorage() throws {
        var scratch = ContextBatch()
        var decisions: [Decision] = []
        // A large request, then a small one into the same storage, then the large one again.
        for (easyID, topK) in [("big", 50), ("small", 2), ("big", 50)] {
            decisions.append(try #require(try engine.rankFromMemory(request(easyID, topK: topK), scratch: &scratch)))
        }
        #expect(decisions[0].scores.scores == decisions[2].scores.scores)
        #expect(decisions[0].ranked == decisions[2].ranked)
    }
}
