using System.Buffers;
using System.Buffers.Binary;

namespace Router.Gateway.Grpc;

/// <summary>
/// Length-Prefixed-Message framing (PROTOCOL-HTTP2.md): Compressed-Flag (1 byte), Message-Length
/// (4 bytes, big endian), Message. HTTP/2 DATA frames and messages are independent: one message
/// may span many frames and one frame may hold many messages, so the reader works on a sequence.
/// </summary>
internal static class GrpcMessageFraming
{
    public const int CompressedFlagSize = 1;
    public const int LengthSize = 4;
    public const int HeaderSize = CompressedFlagSize + LengthSize;

    public const byte Uncompressed = 0;
    public const byte Compressed = 1;

    /// <summary>
    /// Reads one message from the front of <paramref name="buffer"/>. On success the buffer is
    /// sliced past the message and <paramref name="payload"/> is a view into the original bytes
    /// (valid until the reader advances past them). On false the buffer is unchanged: not enough
    /// bytes yet.
    /// </summary>
    /// <exception cref="GrpcStatusException">
    /// RESOURCE_EXHAUSTED when the declared length exceeds <paramref name="maxMessageSize"/>
    /// (checked from the header, before any byte of the message is buffered or copied);
    /// INTERNAL when the flag is neither 0 nor 1.
    /// </exception>
    public static bool TryReadMessage(ref ReadOnlySequence<byte> buffer, int maxMessageSize, out bool compressed, out ReadOnlySequence<byte> payload)
    {
        if (buffer.Length < HeaderSize)
        {
            compressed = false;
            payload = default;
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);

        var flag = header[0];
        if (flag > Compressed)
        {
            throw new GrpcStatusException(GrpcStatusCode.Internal, $"Invalid compressed flag {flag} in a message header.");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header[CompressedFlagSize..]);
        if (length > (uint)maxMessageSize)
        {
            throw new GrpcStatusException(GrpcStatusCode.ResourceExhausted,
                $"Received message larger than max ({length} vs. {maxMessageSize}).");
        }

        if (buffer.Length < HeaderSize + length)
        {
            compressed = false;
            payload = default;
            return false;
        }

        compressed = flag == Compressed;
        payload = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    /// <summary>Writes the 5-byte header for a message of <paramref name="length"/> bytes.</summary>
    public static void WriteHeader(Span<byte> destination, bool compressed, int length)
    {
        destination[0] = compressed ? Compressed : Uncompressed;
        BinaryPrimitives.WriteUInt32BigEndian(destination[CompressedFlagSize..], (uint)length);
    }
}
