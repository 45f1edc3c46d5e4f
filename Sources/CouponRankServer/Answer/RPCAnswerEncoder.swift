import CouponRankWire
import NIOCore

/// Encodes answers into frames, in the outbound direction of the channel pipeline.
final class RPCAnswerEncoder: ChannelOutboundHandler {
    typealias OutboundIn = RPCAnswer
    typealias OutboundOut = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer: ByteBuffer
        switch unwrapOutboundIn(data) {
        case .rank(let requestID, let decision):
            let response = RankResponse(decision)
            buffer = context.channel.allocator.buffer(capacity: 64 + response.items.count * 64)
            buffer.writeFrame(response, requestID: requestID)
        case .error(let requestID, let error):
            buffer = context.channel.allocator.buffer(capacity: 32 + error.message.utf8.count)
            buffer.writeFrame(ErrorResponse(error), requestID: requestID)
        case .health(let requestID, let response):
            buffer = context.channel.allocator.buffer(capacity: 128)
            buffer.writeFrame(response, requestID: requestID)
        case .adminReload(let requestID, let response):
            buffer = context.channel.allocator.buffer(capacity: 128)
            buffer.writeFrame(response, requestID: requestID)
        case .reward(let requestID):
            buffer = context.channel.allocator.buffer(capacity: 32)
            buffer.writeFrame(RewardResponse(), requestID: requestID)
        case .adminExploration(let requestID, let response):
            buffer = context.channel.allocator.buffer(capacity: 48)
            buffer.writeFrame(response, requestID: requestID)
        }
        context.write(wrapOutboundOut(buffer), promise: promise)
    }
}
