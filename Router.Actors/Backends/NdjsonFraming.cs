using System.Buffers;

namespace Router.Actors.Backends;

/// <summary>
/// Splits newline-delimited JSON (Ollama's streaming format, <c>application/x-ndjson</c>) into lines,
/// incrementally: a line split across reads is returned once its <c>\n</c> has arrived.
/// </summary>
internal static class NdjsonFraming
{
    /// <summary>Longest line accepted. A longer one is a protocol error, detected before it is buffered whole.</summary>
    public const int MaxLineBytes = 1024 * 1024;

    private const byte LineFeed = (byte)'\n';
    private const byte CarriageReturn = (byte)'\r';

    /// <summary>
    /// Reads the next non-empty line from <paramref name="buffer"/> and advances the buffer past it and
    /// its terminator. The line excludes <c>\n</c> and a trailing <c>\r</c>; it is a slice of the
    /// buffer, valid until the reader advances.
    /// </summary>
    /// <param name="oversized">Set when the pending line is already longer than <paramref name="maxLineBytes"/>;
    /// the method then returns false and the stream cannot continue.</param>
    /// <returns>False when no complete line is buffered (read more) or the line is oversized.</returns>
    public static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line, out bool oversized, int maxLineBytes = MaxLineBytes)
    {
        while (true)
        {
            SequencePosition? end = buffer.PositionOf(LineFeed);
            if (end is null)
            {
                // No terminator yet. Checking the partial line here bounds memory: the caller stops
                // reading instead of buffering an endless line.
                line = default;
                oversized = buffer.Length > maxLineBytes;
                return false;
            }

            ReadOnlySequence<byte> candidate = buffer.Slice(0, end.Value);
            if (candidate.Length > maxLineBytes + 1)
            {
                line = default;
                oversized = true;
                return false;
            }

            buffer = buffer.Slice(buffer.GetPosition(1, end.Value));
            candidate = TrimCarriageReturn(candidate);
            if (candidate.Length > maxLineBytes)
            {
                line = default;
                oversized = true;
                return false;
            }

            if (candidate.IsEmpty)
            {
                // Blank lines carry nothing (some servers send them as keep-alives).
                continue;
            }

            line = candidate;
            oversized = false;
            return true;
        }
    }

    internal static ReadOnlySequence<byte> TrimCarriageReturn(ReadOnlySequence<byte> line)
    {
        if (line.IsEmpty)
        {
            return line;
        }

        ReadOnlySequence<byte> last = line.Slice(line.Length - 1);
        return last.FirstSpan[0] == CarriageReturn ? line.Slice(0, line.Length - 1) : line;
    }

    /// <summary>Whether the bytes left at the end of a stream are only whitespace (nothing lost).</summary>
    internal static bool IsWhitespace(in ReadOnlySequence<byte> buffer)
    {
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            foreach (byte b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or LineFeed or CarriageReturn))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
