import CouponRankCore
import CouponRankEngine
import CouponRankEvents
import CouponRankModelStore
import CouponRankClient
import CouponRankTestSupport
import CouponRankWire
import Foundation
import NIOCore
import Testing

/// The optional `candidates` field of a decision entry (EVENTS.md §2.5): which coupons it holds,
/// its encoding against the worked example and an independent reader, and what the engine logs.
@Suite struct DecisionCandidatesTests {
    /// Stub candidates with a duplicated id and a filtered one, so the counts are not trivially equal.
    static func decisions(_ policy: ExplorationPolicy, topK: Int = 10) async throws -> [Decision] {
        let generator = TestServer.generator
        var sources = FixtureSources(users: [:], coupons: [:])
        for user in 1...6 {
            let easyID = "\(user)"
            var coupons = generator.candidates(for: easyID)
            coupons.append(coupons[3])  // a duplicate id
            sources.users[easyID] = generator.userFeatures(for: easyID)
            sources.coupons[easyID] = coupons
            sources.stats[easyID] = generator.stats(for: easyID)
        }
        let engine = RankEngine(sources: .fixture(sources), models: ModelSlot(try exploringModel(policy), origin: .embedded))
        var decisions: [Decision] = []
        for user in 1...6 {
            let excluded: Set<String> = user.isMultiple(of: 2) ? [sources.coupons["\(user)"]![7].id] : []
            let request = DecisionRequest(
                easyID: "\(user)",
                topK: topK,
                excluded: excluded,
                deadline: .now + .seconds(10),
                eventID: "cand-\(user)"
            )
            decisions.append(try await engine.rank(request))
        }
        return decisions
    }

    @Test(arguments: [ExplorationPolicy.epsilonGreedy(epsilon: 0.5), .softmax(temperature: 0.05)])
    func theItemsAndCandidatesTogetherAreExactlyTheEligibleCouponsEachOnceInGreedyOrder(policy: ExplorationPolicy) async throws {
        var explored = false
        for decision in try await Self.decisions(policy) {
            let record = LoggedDecision(decision, includingCandidates: true)
            let candidates = try #require(record.candidates)
            let shown = record.items.map(\.coupon.id)
            let unshown = candidates.map(\.coupon.id)
            #expect(record.items.count + candidates.count == record.eligible, "\(decision.eventID)")
            #expect(Set(shown + unshown).count == shown.count + unshown.count, "each coupon id once, shown or not")
            #expect(Set(unshown) == Set(decision.candidates.map(\.id)).subtracting(shown))
            explored = explored || record.items.contains { $0.choice.contains(.explored) || !$0.choice.contains(.best) }

            // Greedy order: descending score (the best of duplicates), equal scores by id.
            var best: [String: Double] = [:]
            for (coupon, score) in zip(decision.candidates, decision.scores.scores) {
                best[coupon.id] = max(best[coupon.id] ?? -.infinity, score)
            }
            for (a, b) in zip(unshown, unshown.dropFirst()) {
                #expect(best[a]! > best[b]! || (best[a]! == best[b]! && a < b), "\(a) before \(b)")
            }
            let stats = decision.stats.byCouponID
            for candidate in candidates {
                #expect(candidate.stats == stats[candidate.coupon.id] ?? .prior)
                #expect(candidate.coupon == decision.candidates.first { $0.id == candidate.coupon.id })
            }
        }
        #expect(explored, "the policy explored somewhere, so unshown coupons are not just the greedy tail")
    }

    @Test func withoutCandidatesTheRecordHasNone() async throws {
        let decision = try #require(try await Self.decisions(.epsilonGreedy(epsilon: 0.5)).first)
        #expect(LoggedDecision(decision).candidates == nil)
        let entry = DecisionLog.Entry(decision).streamFields()
        #expect(entry.count == 2 && entry[0] == Array("body".utf8))
    }

    @Test func theFieldRoundTripsThroughTheEntry() async throws {
        for decision in try await Self.decisions(.softmax(temperature: 0.05)) {
            let fields = DecisionLog.Entry(decision, includesCandidates: true).streamFields()
            #expect(fields.count == 4 && fields[2] == Array("candidates".utf8))
            let map = Dictionary(uniqueKeysWithValues: stride(from: 0, to: fields.count, by: 2).map { (String(decoding: fields[$0], as: UTF8.self), fields[$0 + 1]) })
            let decoded = try #require(try DecisionLogReader.decode(fields: map))
            let original = LoggedDecision(decision, includingCandidates: true)
            let candidates = try #require(decoded.candidates)
            #expect(candidates.map(\.coupon.id) == original.candidates!.map(\.coupon.id))
            #expect(candidates.map(\.stats) == original.candidates!.map(\.stats))
            for (read, written) in zip(candidates, original.candidates!) {
                let (a, b) = (read.coupon, written.coupon)
                #expect(a.category == b.category && a.shop == b.shop && a.discountRate == b.discountRate)
                #expect(a.minimumSpend == b.minimumSpend && a.daysToExpiry == b.daysToExpiry)
                #expect(a.numericAttributes == b.numericAttributes && a.labels == b.labels)
            }
            var reencoded = ByteBuffer()
            LoggedDecision.encodeCandidates(candidates, into: &reencoded)
            #expect(Array(reencoded.readableBytesView) == fields[3])
            #expect(decoded.items.map(\.coupon.id) == original.items.map(\.coupon.id))
        }
    }

    @Test func theExampleFieldDecodesToItsDocumentedCandidatesAndReencodesByteForByte() throws {
        let bytes = try exampleHex("decision-candidates.hex")
        let decoded = try #require(
            try DecisionLogReader.decode(fields: ["body": try exampleHex("decision-record.hex"), "candidates": bytes, "future": [1, 2]])
        )
        let candidates = try #require(decoded.candidates)
        #expect(candidates.map(\.coupon.id) == ["C000404", "C000001"])
        #expect(decoded.items.count + candidates.count == decoded.eligible)
        let first = candidates[0].coupon
        #expect(first.category == "home" && first.shop == "shop-0404" && first.discountRate == 0.2)
        #expect(first.minimumSpend == 2000 && first.daysToExpiry == 14)
        #expect(first.numericAttributes == ["popularity": 0.7] && first.labels == ["brand": "acme"])
        #expect(candidates[0].stats == CouponStats(ctr: 0.05, cvr: 0.004))
        #expect(candidates[1].stats == .prior)
        var encoded = ByteBuffer()
        LoggedDecision.encodeCandidates(candidates, into: &encoded)
        #expect(Array(encoded.readableBytesView) == bytes)

        // The example is self-consistent: with tiny-1 both score below the shown C000303, in this order.
        let model = try FixtureSources.vectorFixtureModel()
        var batch = ContextBatch()
        model.schema.makeContexts(user: decoded.user, candidates: candidates.map(\.coupon), stats: CouponStatsTable(), into: &batch)
        let scores = model.score(batch).scores
        #expect(scores[0] > scores[1] && Float(scores[0]) < Float(decoded.items[0].score))
    }

    @Test func aCorruptCandidatesFieldIsAnErrorNamingTheField() throws {
        let body = try exampleHex("decision-record.hex")
        let bytes = try exampleHex("decision-candidates.hex")
        let corrupt: [(String, [UInt8])] = [
            ("empty", []),
            ("truncated", Array(bytes.dropLast(3))),
            ("future format", [2] + bytes.dropFirst()),
            ("trailing bytes", bytes + [0]),
            ("invalid UTF-8", Array(bytes.prefix(5)) + [0xFF] + bytes.dropFirst(6)),
        ]
        for (name, field) in corrupt {
            do {
                _ = try DecisionLogReader.decode(fields: ["body": body, "candidates": field])
                Issue.record("\(name): decoded")
            } catch let error as WireError {
                #expect(error.message.hasPrefix("candidates: "), "\(name): \(error)")
            } catch {
                Issue.record("\(name): \(error) is not a WireError")
            }
        }
        #expect(try DecisionLogReader.decode(fields: ["candidates": bytes]) == nil, "no body, no decision")
    }

    @Test func thePythonReaderDecodesTheExampleCandidatesAsDocumented() async throws {
        let directory = ProtocolVectors.specDirectory.appendingPathComponent("examples")
        let (status, output) = try await runChildProcess([
            "python3", pythonReader,
            "--hex", directory.appendingPathComponent("decision-record.hex").path,
            "--candidates-hex", directory.appendingPathComponent("decision-candidates.hex").path,
        ])
        #expect(status == 0, "\(output)")
        let line = try #require(output.split(separator: "\n").first)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let record = try #require(json["record"] as? [String: Any])
        let candidates = try #require(record["candidates"] as? [[String: Any]])
        #expect(candidates.compactMap { $0["coupon_id"] as? String } == ["C000404", "C000001"])
        #expect(jsonNumbers("ctr", in: line) == [0.02, 0.05, 0.02])
        #expect((candidates[0]["labels"] as? [String: String]) == ["brand": "acme"])
    }
}

/// What a serving engine logs with `--decision-log-candidates`, read back from a real redis-server.
@Suite(.enabled(if: RedisServerFixture.isAvailable, "\(RedisServerFixture.unavailableReason)"))
struct DecisionCandidatesLogTests {
    @Test(arguments: [0.0, 0.5, 1.0])
    func aLoggedDecisionCarriesItsUnshownCandidatesAtTheConfiguredRate(rate: Double) async throws {
        let model = try exploringModel(.epsilonGreedy(epsilon: 0.3))
        try await RedisServerFixture.with { redis in
            let answers = try await withEventWriters(redis) { decisions, _ in
                try await TestServer.with(model: model, sink: DecisionLog(writer: decisions, candidatesRate: rate)) { server in
                    let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                    var answers: [RankResponse] = []
                    // Server-made UUIDv7 ids: FNV-1a's top bits hardly move when only an id's
                    // last bytes differ, so `page-10` … `page-29` would all fall on one side.
                    for index in 0..<30 {
                        answers.append(try await client.rank(RankRequest(easyID: "\(index % 7 + 1)", topK: 10)))
                    }
                    await client.close()
                    return answers
                }
            }

            // The raw entries: a `candidates` field exactly on the decisions the rate chose.
            let page = try await RedisClient(url: redis.url).command(["XRANGE", EventKeys().decisions, "-", "+"]).elements ?? []
            #expect(page.count == answers.count)
            var entries: [String: [String: [UInt8]]] = [:]
            for entry in page {
                let values = try #require(entry.elements?.last?.elements)
                var fields: [String: [UInt8]] = [:]
                for index in stride(from: 0, to: values.count - 1, by: 2) {
                    fields[values[index].text ?? ""] = values[index + 1].bytes ?? []
                }
                let eventID = try #require(DecisionLogReader.eventID(ofBody: fields["body"] ?? []))
                entries[eventID] = fields
            }
            var carrying = 0
            for answer in answers {
                let fields = try #require(entries[answer.eventID], "\(answer.eventID) logged")
                let expected = DecisionLog.isSampled(eventID: answer.eventID, rate: rate)
                #expect((fields["candidates"] != nil) == expected, "\(answer.eventID) at rate \(rate)")
                let decision = try #require(try DecisionLogReader.decode(fields: fields))
                guard let candidates = decision.candidates else {
                    #expect(!expected)
                    continue
                }
                carrying += 1
                let shown = Set(answer.items.map(\.couponID))
                #expect(decision.items.count + candidates.count == decision.eligible)
                #expect(decision.eligible == 200, "every stub candidate is eligible")
                #expect(candidates.allSatisfy { !shown.contains($0.coupon.id) })
                #expect(Set(candidates.map(\.coupon.id)).count == candidates.count)
            }
            switch rate {
            case 0: #expect(carrying == 0)
            case 1: #expect(carrying == answers.count)
            default: #expect(carrying > 0 && carrying < answers.count)
            }

            // The independent reader sees the same field.
            let (status, output) = try await runChildProcess(["python3", pythonReader, "--port", "\(redis.port)"])
            #expect(status == 0, "\(output.suffix(2000))")
            #expect(output.split(separator: "\n").filter { $0.contains(#""candidates": ["#) }.count == carrying)
        }
    }
}

/// The `rules` field of a decision entry (EVENTS.md §2.6) against its example.
@Suite struct DecisionRulesFieldTests {
    @Test func theExampleFieldDecodesToItsDocumentedRemovalsAndReencodesByteForByte() throws {
        let bytes = try exampleHex("decision-rules.hex")
        let decoded = try #require(try DecisionLogReader.decode(fields: ["body": try exampleHex("decision-record.hex"), "rules": bytes]))
        let rules = try #require(decoded.rules)
        #expect(rules.version == "case-study-1")
        #expect(rules.removals == [RuleRemoval(rule: "europa-no-offers-4-5-6", removed: 3), RuleRemoval(rule: "over-65-no-offers-1-3-4", removed: 2)])
        var encoded = ByteBuffer()
        LoggedDecision.encodeRules(rules, into: &encoded)
        #expect(Array(encoded.readableBytesView) == bytes)
        let withoutRules = try #require(try DecisionLogReader.decode(fields: ["body": try exampleHex("decision-record.hex")]))
        #expect(withoutRules.rules == nil)
    }

    @Test func aCorruptRulesFieldIsAnErrorNamingTheField() throws {
        let body = try exampleHex("decision-record.hex")
        let bytes = try exampleHex("decision-rules.hex")
        for corrupt in [[], Array(bytes.dropLast(2)), [2] + bytes.dropFirst(), bytes + [0]] {
            #expect {
                _ = try DecisionLogReader.decode(fields: ["body": body, "rules": corrupt])
            } throws: { error in
                (error as? WireError)?.message.hasPrefix("rules: ") == true
            }
        }
    }
}
