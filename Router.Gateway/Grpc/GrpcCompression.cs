using System.Buffers;
using System.IO.Compression;

namespace Router.Gateway.Grpc;

/// <summary>
/// Message compression (doc/compression.md): identity and gzip. The request's grpc-encoding says
/// how messages with the compressed flag are compressed; a response is compressed only with an
/// encoding the client lists in grpc-accept-encoding.
/// </summary>
internal static class GrpcCompression
{
    public const string Identity = "identity";
    public const string Gzip = "gzip";
    /// <summary>Sent in grpc-accept-encoding, and with UNIMPLEMENTED for an encoding we lack.</summary>
    public const string Supported = "identity,gzip";

    public static bool IsIdentity(string? encoding) =>
        string.IsNullOrEmpty(encoding) || string.Equals(encoding, Identity, StringComparison.OrdinalIgnoreCase);

    public static bool IsGzip(string? encoding) => string.Equals(encoding, Gzip, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The response encoding: gzip when the client compressed its request with gzip and accepts
    /// gzip back; identity otherwise (a client that did not compress is not sent compressed data).
    /// </summary>
    public static bool ShouldCompressResponse(string? requestEncoding, string? acceptEncoding)
    {
        if (!IsGzip(requestEncoding) || acceptEncoding is null)
        {
            return false;
        }

        foreach (var range in acceptEncoding.AsSpan().Split(','))
        {
            if (acceptEncoding.AsSpan(range).Trim().Equals(Gzip, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Inflates one gzip message into a pooled buffer. The inflated size is bounded as it grows,
    /// so a small message that inflates past <paramref name="maxMessageSize"/> is refused with
    /// RESOURCE_EXHAUSTED without ever holding more than the limit.
    /// </summary>
    public static PooledBuffer Decompress(in ReadOnlySequence<byte> payload, int maxMessageSize)
    {
        // One byte past the limit is enough to tell "too large" without holding more.
        var bound = (int)Math.Min((long)maxMessageSize + 1, Array.MaxLength);
        var compressed = ArrayPool<byte>.Shared.Rent((int)payload.Length);
        var output = new PooledBuffer((int)Math.Min(Math.Max(payload.Length * 4, 256), bound));
        try
        {
            payload.CopyTo(compressed);
            using var input = new MemoryStream(compressed, 0, (int)payload.Length, writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            while (true)
            {
                if (output.Length == output.Capacity)
                {
                    // Full at the bound: either past the limit, or at the largest array there is.
                    if (output.Length > maxMessageSize || output.Length >= bound)
                    {
                        throw new GrpcStatusException(GrpcStatusCode.ResourceExhausted,
                            $"Received message larger than max after decompression (more than {maxMessageSize} bytes).");
                    }

                    output.Grow((int)Math.Min((long)output.Capacity * 2, bound));
                }

                var read = gzip.Read(output.FreeSpan);
                if (read == 0)
                {
                    break;
                }

                output.Advance(read);
            }

            if (output.Length > maxMessageSize)
            {
                throw new GrpcStatusException(GrpcStatusCode.ResourceExhausted,
                    $"Received message larger than max after decompression (more than {maxMessageSize} bytes).");
            }

            return output;
        }
        catch (InvalidDataException)
        {
            output.Dispose();
            throw new GrpcStatusException(GrpcStatusCode.Internal, "Could not decompress a gzip message.");
        }
        catch
        {
            output.Dispose();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(compressed);
        }
    }

    /// <summary>Deflates <paramref name="data"/> with gzip into <paramref name="output"/>.</summary>
    public static void Compress(ReadOnlySpan<byte> data, PooledBuffer output)
    {
        using var stream = new PooledBufferStream(output);
        using (var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }
    }

    /// <summary>A write-only stream appending to a <see cref="PooledBuffer"/>, for GZipStream.</summary>
    private sealed class PooledBufferStream(PooledBuffer buffer) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => buffer.Length;
        public override long Position { get => buffer.Length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer1, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer1, int offset, int count) => Write(buffer1.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> source)
        {
            if (buffer.FreeSpan.Length < source.Length)
            {
                buffer.Grow(Math.Max(buffer.Capacity * 2, buffer.Length + source.Length));
            }

            source.CopyTo(buffer.FreeSpan);
            buffer.Advance(source.Length);
        }
    }
}

/// <summary>A growable byte buffer on <see cref="ArrayPool{T}.Shared"/>; <see cref="Dispose"/> returns it.</summary>
internal sealed class PooledBuffer : IDisposable
{
    private byte[] _array;

    public PooledBuffer(int initialCapacity)
    {
        _array = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 16));
    }

    public int Length { get; private set; }
    public int Capacity => _array.Length;
    public Span<byte> FreeSpan => _array.AsSpan(Length);
    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, Length);
    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, Length);

    public void Advance(int count) => Length += count;

    public void Grow(int capacity)
    {
        if (capacity <= _array.Length)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(capacity);
        _array.AsSpan(0, Length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = larger;
    }

    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, []);
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
