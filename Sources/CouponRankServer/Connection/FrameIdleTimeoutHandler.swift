import CouponRankWire
import NIOCore

/// Closes a connection that completes no frame for `timeout`.
///
/// Sits after the frame decoder, so bytes alone do not count: a peer dribbling a frame more
/// slowly than the timeout is closed like a silent one (PROTOCOL.md §8).
final class FrameIdleTimeoutHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias InboundOut = Frame

    private let timeout: TimeAmount
    private var lastFrame = NIODeadline.now()
    private var check: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { schedule(context: context, at: lastFrame + timeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        lastFrame = .now()
        schedule(context: context, at: lastFrame + timeout)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastFrame = .now()
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    private func schedule(context: ChannelHandlerContext, at deadline: NIODeadline) {
        check?.cancel()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.fire(context: context)
        }
    }

    private func fire(context: ChannelHandlerContext) {
        let due = lastFrame + timeout
        if NIODeadline.now() >= due {
            context.close(promise: nil)
        } else {
            schedule(context: context, at: due)
        }
    }
}
