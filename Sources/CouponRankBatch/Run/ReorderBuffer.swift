/// Results that finish out of order, released in order: each is inserted under its sequence
/// number (0, 1, 2, …, each once) and ``popNext()`` gives them back from 0 upwards, holding any
/// that arrive before their turn.
///
/// Bounded by its user: ``BatchRunner`` starts a chunk only while fewer than its bound are
/// between ``nextSequence`` and the last started.
public struct ReorderBuffer<Element> {
    /// The sequence number ``popNext()`` releases next.
    public private(set) var nextSequence = 0
    private var waiting: [Int: Element] = [:]

    public init() {}

    /// Results held for an earlier one.
    public var count: Int { waiting.count }

    public mutating func insert(_ element: Element, sequence: Int) {
        precondition(sequence >= nextSequence && waiting[sequence] == nil, "sequence \(sequence) was already inserted")
        waiting[sequence] = element
    }

    /// The result numbered ``nextSequence``, if it has arrived.
    public mutating func popNext() -> Element? {
        guard let element = waiting.removeValue(forKey: nextSequence) else { return nil }
        nextSequence += 1
        return element
    }
}
