import NIOCore

/// Closes a connection when its ``NIOCore/IdleStateHandler`` reports it idle.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = Frame

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

import CouponRankWire
