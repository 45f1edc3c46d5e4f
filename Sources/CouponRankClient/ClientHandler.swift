import CouponRankWire
import NIOCore

/// A request on its way out: its encoded frame and where its answer goes.
struct OutboundCall {
    let requestID: UInt64
    let frame: ByteBuffer
    let timeout: TimeAmount
    let promise: EventLoopPromise<Frame>
}

/// Matches answers to calls by request id; fails calls on timeout or when the connection ends.
final class ClientHandler: ChannelDuplexHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = OutboundCall
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        let promise: EventLoopPromise<Frame>
        let timeout: Scheduled<Void>
    }

    private var pending: [UInt64: Pending] = [:]
    private var closedError: ClientError?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let call = unwrapOutboundIn(data)
        if let closedError {
            call.promise.fail(closedError)
            promise?.fail(closedError)
            return
        }
        let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        let requestID = call.requestID
        let timeout = context.eventLoop.scheduleTask(in: call.timeout) {
            loopBoundSelf.value.timeOut(requestID)
        }
        pending[requestID] = Pending(promise: call.promise, timeout: timeout)
        context.write(wrapOutboundOut(call.frame), promise: promise)
    }

    private func timeOut(_ requestID: UInt64) {
        pending.removeValue(forKey: requestID)?.promise.fail(
            ClientError(.timeout, "no answer to request \(requestID) within its timeout")
        )
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let call = pending.removeValue(forKey: frame.header.requestID) else {
            return  // answer to a call that already timed out, or an unsolicited frame: ignored
        }
        call.timeout.cancel()
        call.promise.succeed(frame)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(ClientError(.protocolViolation, "\(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(ClientError(.connectionClosed, "the connection closed"))
        context.fireChannelInactive()
    }

    private func failAll(_ error: ClientError) {
        if closedError == nil { closedError = error }
        let calls = pending
        pending.removeAll()
        for call in calls.values {
            call.timeout.cancel()
            call.promise.fail(error)
        }
    }
}
