using System.Net.ServerSentEvents;

namespace Router.Actors.Backends;

/// <summary>
/// Reads a <c>text/event-stream</c>, as OpenAI-compatible servers stream, with
/// System.Net.ServerSentEvents' <see cref="SseParser"/> over a stream that bounds each event's size
/// (<see cref="SseEventLimitStream"/>): the parser itself buffers an event of any length.
/// </summary>
internal static class SseFraming
{
    /// <summary>Largest event accepted, as sent: its lines with their field names and line ends.</summary>
    public const int MaxEventBytes = NdjsonFraming.MaxLineBytes;

    private static ReadOnlySpan<byte> DoneMarker => "[DONE]"u8;

    /// <summary>
    /// A parser of the events in <paramref name="body"/>; each event's data is a copy the consumer may
    /// keep. Comments, <c>id</c> and <c>retry</c> fields are the parser's business and never reach the
    /// consumer. It reads <paramref name="body"/> only when asked for the next event and none is buffered.
    /// </summary>
    /// <exception cref="InvalidDataException">Thrown from the enumeration when an event exceeds <paramref name="limit"/>.</exception>
    public static SseParser<byte[]> CreateParser(SseEventLimitStream limit) =>
        SseParser.Create(limit, static (_, data) => data.ToArray());

    /// <summary>OpenAI's end-of-stream sentinel, <c>data: [DONE]</c>.</summary>
    public static bool IsDone(ReadOnlySpan<byte> data) => data.SequenceEqual(DoneMarker);
}
