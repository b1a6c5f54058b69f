using System.Buffers;
using System.Text;
using Router.Actors.Backends;

namespace Router.Tests.Backends;

public sealed class SseEventParserTests
{
    public static TheoryData<string, string[]> Events => new()
    {
        // input → data of each dispatched event ("[DONE]" included as data)
        { "data: {\"a\":1}\n\n", ["{\"a\":1}"] },
        { "data:{\"a\":1}\n\n", ["{\"a\":1}"] },
        { "data: {\"a\":1}\r\n\r\n", ["{\"a\":1}"] },
        { "data: first\ndata: second\n\n", ["first\nsecond"] },
        { ": keep-alive\n\ndata: x\n\n", ["x"] },
        { "event: message\nid: 7\nretry: 100\ndata: x\n\n", ["x"] },
        { "data: a\n\ndata: [DONE]\n\n", ["a", "[DONE]"] },
        { "\n\n\ndata: a\n\n", ["a"] },
        { "data\n\n", [""] },
        { "data:  two spaces\n\n", [" two spaces"] },
        // An event not closed by a blank line is not dispatched.
        { "data: a\n\ndata: incomplete\n", ["a"] },
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void TryReadEvent_Table_DispatchesEvents(string input, string[] expected)
    {
        var parser = new SseEventParser();
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(input));
        var events = new List<string>();
        while (parser.TryReadEvent(ref buffer, out SseEvent sseEvent, out bool oversized))
        {
            Assert.False(oversized);
            events.Add(Encoding.UTF8.GetString(sseEvent.Data));
        }

        Assert.Equal(expected, events);
    }

    [Fact]
    public void TryReadEvent_DoneMarker_IsDone()
    {
        var parser = new SseEventParser();
        var buffer = new ReadOnlySequence<byte>("data: [DONE]\n\n"u8.ToArray());

        Assert.True(parser.TryReadEvent(ref buffer, out SseEvent sseEvent, out _));
        Assert.True(sseEvent.IsDone);
    }

    [Fact]
    public void TryReadEvent_EventName_IsKept()
    {
        var parser = new SseEventParser();
        var buffer = new ReadOnlySequence<byte>("event: ping\ndata: x\n\n"u8.ToArray());

        Assert.True(parser.TryReadEvent(ref buffer, out SseEvent sseEvent, out _));
        Assert.Equal("ping", sseEvent.Name);
    }

    [Fact]
    public void TryReadEvent_SplitAtEveryPosition_YieldsTheSameEvents()
    {
        byte[] input = Encoding.UTF8.GetBytes(
            ": hi\r\n\r\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hé\"}}]}\r\n\r\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n");
        string[] expected = ["{\"choices\":[{\"delta\":{\"content\":\"Hé\"}}]}", "line1\nline2", "[DONE]"];

        for (int first = 0; first <= input.Length; first++)
        {
            for (int second = first; second <= input.Length; second += 5)
            {
                var parser = new SseEventParser();
                List<string> events = SequenceBuilder.Feed(input, [first, second], buffer => ParseAll(parser, buffer));
                Assert.Equal(expected, events);
            }
        }
    }

    [Fact]
    public void TryReadEvent_DataOverLimit_ReportsOversized()
    {
        var parser = new SseEventParser(maxEventBytes: 8);
        var buffer = new ReadOnlySequence<byte>("data: 12345\ndata: 6789\n\n"u8.ToArray());

        bool read = parser.TryReadEvent(ref buffer, out _, out bool oversized);

        Assert.False(read);
        Assert.True(oversized);
    }

    [Fact]
    public void TryReadEvent_UnterminatedLineOverLimit_ReportsOversized()
    {
        var parser = new SseEventParser(maxEventBytes: 8);
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("data: " + new string('x', 100)));

        bool read = parser.TryReadEvent(ref buffer, out _, out bool oversized);

        Assert.False(read);
        Assert.True(oversized);
    }

    private static (List<string>, ReadOnlySequence<byte>) ParseAll(SseEventParser parser, ReadOnlySequence<byte> buffer)
    {
        var events = new List<string>();
        while (parser.TryReadEvent(ref buffer, out SseEvent sseEvent, out bool oversized))
        {
            Assert.False(oversized);
            events.Add(Encoding.UTF8.GetString(sseEvent.Data));
        }

        return (events, buffer);
    }
}
