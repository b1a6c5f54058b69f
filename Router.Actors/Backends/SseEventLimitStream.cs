namespace Router.Actors.Backends;

/// <summary>
/// A read-only view of a <c>text/event-stream</c> body that fails the read in which the event being
/// received grows past a limit (<see cref="InvalidDataException"/>, as the parser reports its own). The SSE parser reading through it buffers a line, and an event's
/// data, for as long as they last; counting here, before it sees the bytes, bounds that memory to
/// the limit plus one read. It also tells whether the body stopped in the middle of a line.
/// </summary>
/// <remarks>
/// Counts the bytes of an event's lines (field names included, line ends not) from one blank line to
/// the next, with the line ends the standard allows: LF, CRLF and a lone CR. Does not own the
/// stream it reads.
/// </remarks>
internal sealed class SseEventLimitStream(Stream body, int maxEventBytes) : Stream
{
    private const byte LineFeed = (byte)'\n';
    private const byte CarriageReturn = (byte)'\r';

    private long _eventBytes;
    private bool _atLineStart = true;
    private bool _afterCarriageReturn;
    private bool _lineHasText;

    /// <summary>The last line read has text but no line end yet: if the body ends here, it was cut off mid-line.</summary>
    public bool EndsInsideLine => _lineHasText;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        int read = body.Read(buffer);
        Count(buffer[..read]);
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Count(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private void Count(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int end = bytes.IndexOfAny(CarriageReturn, LineFeed);
            ReadOnlySpan<byte> text = end < 0 ? bytes : bytes[..end];
            if (!text.IsEmpty)
            {
                _atLineStart = false;
                _afterCarriageReturn = false;
                _lineHasText |= text.IndexOfAnyExcept((byte)' ', (byte)'\t') >= 0;
                _eventBytes += text.Length;
                if (_eventBytes > maxEventBytes)
                {
                    throw new InvalidDataException($"A server-sent event is longer than {maxEventBytes} bytes.");
                }
            }

            if (end < 0)
            {
                return;
            }

            byte lineEnd = bytes[end];
            bytes = bytes[(end + 1)..];
            if (lineEnd == LineFeed && _afterCarriageReturn)
            {
                // The LF of a CRLF: the line ended at its CR.
                _afterCarriageReturn = false;
                continue;
            }

            _afterCarriageReturn = lineEnd == CarriageReturn;
            _lineHasText = false;
            if (_atLineStart)
            {
                // A blank line ends the event, whether or not it carried data.
                _eventBytes = 0;
            }

            _atLineStart = true;
        }
    }
}
