using System.Buffers;
using Google.Protobuf;

namespace Router.Gateway.Grpc;

/// <summary>Writes Length-Prefixed-Messages: the header, then the message serialized in place.</summary>
internal static class GrpcMessageWriter
{
    /// <exception cref="GrpcStatusException">RESOURCE_EXHAUSTED when the message exceeds <paramref name="maxMessageSize"/>.</exception>
    public static void Write(IBufferWriter<byte> output, IMessage message, bool compress, int maxMessageSize)
    {
        var size = message.CalculateSize();
        if (size > maxMessageSize)
        {
            throw new GrpcStatusException(GrpcStatusCode.ResourceExhausted,
                $"Sending message larger than max ({size} vs. {maxMessageSize}).");
        }

        if (!compress)
        {
            // The size is known before serializing, so header and message go into one span.
            var span = output.GetSpan(GrpcMessageFraming.HeaderSize + size);
            GrpcMessageFraming.WriteHeader(span, compressed: false, size);
            message.WriteTo(span.Slice(GrpcMessageFraming.HeaderSize, size));
            output.Advance(GrpcMessageFraming.HeaderSize + size);
            return;
        }

        // Compressed: the length is known only after deflating, so deflate into a pooled buffer first.
        var plain = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        using var deflated = new PooledBuffer(size / 2 + 64);
        try
        {
            message.WriteTo(plain.AsSpan(0, size));
            GrpcCompression.Compress(plain.AsSpan(0, size), deflated);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(plain);
        }

        var length = deflated.Length;
        var destination = output.GetSpan(GrpcMessageFraming.HeaderSize + length);
        GrpcMessageFraming.WriteHeader(destination, compressed: true, length);
        deflated.WrittenSpan.CopyTo(destination[GrpcMessageFraming.HeaderSize..]);
        output.Advance(GrpcMessageFraming.HeaderSize + length);
    }
}
