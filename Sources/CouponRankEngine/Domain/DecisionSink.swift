/// Where decisions go after they are answered: the decision log attaches here.
///
/// Called on the request path once per decision, so an implementation must not block or wait:
/// enqueue into a bounded buffer and count what it drops.
public protocol DecisionSink: Sendable {
    func record(_ decision: Decision)
}
