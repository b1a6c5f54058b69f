using System.Buffers;

namespace Router.Actors.Backends;

/// <summary>One dispatched server-sent event: its <c>event</c> name (null for the default) and its data.</summary>
internal readonly record struct SseEvent(string? Name, byte[] Data)
{
    private static ReadOnlySpan<byte> DoneMarker => "[DONE]"u8;

    /// <summary>OpenAI's end-of-stream sentinel, <c>data: [DONE]</c>.</summary>
    public bool IsDone => Data.AsSpan().SequenceEqual(DoneMarker);
}

/// <summary>
/// Incremental parser of a <c>text/event-stream</c> (the HTML Living Standard's event stream
/// interpretation), as OpenAI-compatible servers stream. Stateful: an event's <c>data:</c> lines may
/// arrive across several reads, so the data gathered so far lives here between calls.
/// </summary>
/// <remarks>Lines end with LF or CRLF. A lone CR as line terminator (allowed by the spec, used by no
/// inference server) is not recognised.</remarks>
internal sealed class SseEventParser
{
    /// <summary>Largest event data accepted (the sum of its data lines).</summary>
    public const int MaxEventBytes = NdjsonFraming.MaxLineBytes;

    // A line may carry "data: " and a CR besides the data itself.
    private const int MaxLineOverhead = 8;

    private static ReadOnlySpan<byte> DataField => "data"u8;
    private static ReadOnlySpan<byte> EventField => "event"u8;

    private readonly int _maxEventBytes;
    private readonly ArrayBufferWriter<byte> _data = new(1024);
    private bool _hasData;
    private string? _eventName;

    public SseEventParser(int maxEventBytes = MaxEventBytes)
    {
        _maxEventBytes = maxEventBytes;
    }

    /// <summary>
    /// Consumes lines from <paramref name="buffer"/> until an event is complete (a blank line after at
    /// least one <c>data</c> field) and returns it. Consumed lines are removed from the buffer even when
    /// no event is complete yet; their data is kept here.
    /// </summary>
    /// <param name="oversized">Set when a line or the event's data exceeds the limit; the method then returns false.</param>
    public bool TryReadEvent(ref ReadOnlySequence<byte> buffer, out SseEvent sseEvent, out bool oversized)
    {
        sseEvent = default;
        while (true)
        {
            SequencePosition? end = buffer.PositionOf((byte)'\n');
            if (end is null)
            {
                oversized = buffer.Length > _maxEventBytes + MaxLineOverhead;
                return false;
            }

            ReadOnlySequence<byte> line = buffer.Slice(0, end.Value);
            if (line.Length > _maxEventBytes + MaxLineOverhead)
            {
                oversized = true;
                return false;
            }

            buffer = buffer.Slice(buffer.GetPosition(1, end.Value));
            line = NdjsonFraming.TrimCarriageReturn(line);

            if (line.IsEmpty)
            {
                // A blank line dispatches the event; without data there is nothing to dispatch.
                if (!_hasData)
                {
                    _eventName = null;
                    continue;
                }

                sseEvent = new SseEvent(_eventName, _data.WrittenSpan.ToArray());
                _data.ResetWrittenCount();
                _hasData = false;
                _eventName = null;
                oversized = false;
                return true;
            }

            if (!ProcessLine(line))
            {
                oversized = true;
                return false;
            }
        }
    }

    /// <returns>False when the event's data would exceed the limit.</returns>
    private bool ProcessLine(ReadOnlySequence<byte> line)
    {
        // Lines are short (bounded above), so copying one to a span costs little and keeps parsing simple.
        byte[]? rented = null;
        Span<byte> span = line.Length <= 512
            ? stackalloc byte[512]
            : (rented = ArrayPool<byte>.Shared.Rent((int)line.Length));
        try
        {
            span = span[..(int)line.Length];
            line.CopyTo(span);

            if (span[0] == (byte)':')
            {
                return true; // a comment, used as keep-alive
            }

            int colon = span.IndexOf((byte)':');
            ReadOnlySpan<byte> field = colon < 0 ? span : span[..colon];
            ReadOnlySpan<byte> value = colon < 0 ? default : span[(colon + 1)..];
            if (!value.IsEmpty && value[0] == (byte)' ')
            {
                value = value[1..]; // "If value starts with a U+0020 SPACE character, remove it."
            }

            if (field.SequenceEqual(DataField))
            {
                int needed = value.Length + (_hasData ? 1 : 0);
                if (_data.WrittenCount + needed > _maxEventBytes)
                {
                    return false;
                }

                if (_hasData)
                {
                    _data.Write("\n"u8); // data lines are joined with LF
                }

                _data.Write(value);
                _hasData = true;
            }
            else if (field.SequenceEqual(EventField))
            {
                _eventName = System.Text.Encoding.UTF8.GetString(value);
            }

            // id and retry fields, and unknown fields, are ignored.
            return true;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
