using System.Text;
using Router.Actors.Backends;

namespace Router.Tests.Backends;

public sealed class SseFramingTests
{
    public static TheoryData<string, string[]> Events => new()
    {
        // input → data of each dispatched event ("[DONE]" included as data)
        { "data: {\"a\":1}\n\n", ["{\"a\":1}"] },
        { "data:{\"a\":1}\n\n", ["{\"a\":1}"] },
        { "data: {\"a\":1}\r\n\r\n", ["{\"a\":1}"] },
        { "data: a\r\rdata: b\r\r", ["a", "b"] },
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
    public async Task Parse_Table_DispatchesEvents(string input, string[] expected)
    {
        var events = await ReadAllAsync(new SegmentedStream(Encoding.UTF8.GetBytes(input)));

        Assert.Equal(expected, events.Select(e => e.Data));
    }

    [Fact]
    public void IsDone_DoneMarkerOnly()
    {
        Assert.True(SseFraming.IsDone("[DONE]"u8));
        Assert.False(SseFraming.IsDone("[DONE] "u8));
        Assert.False(SseFraming.IsDone("{\"choices\":[]}"u8));
    }

    [Fact]
    public async Task Parse_EventName_IsKept()
    {
        var events = await ReadAllAsync(new SegmentedStream("event: ping\ndata: x\n\n"u8.ToArray()));

        Assert.Equal(("ping", "x"), Assert.Single(events));
    }

    [Fact]
    public async Task Parse_SplitAtEveryPosition_YieldsTheSameEvents()
    {
        byte[] input = Encoding.UTF8.GetBytes(
            ": hi\r\n\r\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hé\"}}]}\r\n\r\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n");
        string[] expected = ["{\"choices\":[{\"delta\":{\"content\":\"Hé\"}}]}", "line1\nline2", "[DONE]"];

        for (int first = 0; first <= input.Length; first++)
        {
            for (int second = first; second <= input.Length; second += 5)
            {
                var events = await ReadAllAsync(new SegmentedStream(input, first, second));
                Assert.Equal(expected, events.Select(e => e.Data));
            }
        }
    }

    [Fact]
    public async Task Parse_DataOverLimit_InvalidData()
    {
        var body = new SegmentedStream("data: 12345\ndata: 6789\n\n"u8.ToArray());

        await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync(body, maxEventBytes: 8));
    }

    [Fact]
    public async Task Parse_UnterminatedLineOverLimit_InvalidDataBeforeTheLineEnds()
    {
        // An endless line: the read that passes the limit fails, the parser never buffers it whole.
        var body = new SegmentedStream(Encoding.UTF8.GetBytes("data: " + new string('x', 100)), 10, 20, 30, 40);

        await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync(body, maxEventBytes: 25));
        Assert.Equal(3, body.Reads);
    }

    [Fact]
    public async Task Parse_EachEventWithinTheLimit_AllDispatchedHoweverLongTheStream()
    {
        // "data: 0123456789" is 16 bytes; the limit is per event, not per stream.
        byte[] input = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("data: 0123456789\n\n", 100)));

        Assert.Equal(100, (await ReadAllAsync(new SegmentedStream(input), maxEventBytes: 16)).Count);
        await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync(new SegmentedStream(input), maxEventBytes: 15));
    }

    [Fact]
    public async Task Parse_ConsumerAsksForOneEvent_ReadsNoFurther()
    {
        // One event per read, without end: the parser reads only when the consumer asks for the next.
        var body = new EndlessEvents();
        var events = SseFraming.CreateParser(new SseEventLimitStream(body, SseFraming.MaxEventBytes)).EnumerateAsync().GetAsyncEnumerator();
        await using var _ = events;

        for (int i = 1; i <= 3; i++)
        {
            Assert.True(await events.MoveNextAsync());
            Assert.Equal(i, body.Reads);
        }
    }

    [Theory]
    [InlineData("data: a\n\n", false)]
    [InlineData("data: a\n\ndata: cut", true)]
    [InlineData("data: a\n\n  ", false)]
    public async Task EndsInsideLine_TextAfterTheLastLineEnd(string input, bool inside)
    {
        var limit = new SseEventLimitStream(new SegmentedStream(Encoding.UTF8.GetBytes(input)), SseFraming.MaxEventBytes);
        await foreach (var _ in SseFraming.CreateParser(limit).EnumerateAsync())
        {
        }

        Assert.Equal(inside, limit.EndsInsideLine);
    }

    private static async Task<List<(string Name, string Data)>> ReadAllAsync(Stream body, int maxEventBytes = SseFraming.MaxEventBytes)
    {
        var events = new List<(string, string)>();
        await foreach (var item in SseFraming.CreateParser(new SseEventLimitStream(body, maxEventBytes)).EnumerateAsync())
        {
            events.Add((item.EventType, Encoding.UTF8.GetString(item.Data)));
        }

        return events;
    }

    /// <summary>Gives its bytes in reads that end at the given offsets, as a socket might.</summary>
    private sealed class SegmentedStream(byte[] data, params int[] cuts) : MemoryStream(data)
    {
        public int Reads { get; private set; }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Reads++;
            long position = Position;
            int next = cuts.Where(cut => cut > position).DefaultIfEmpty((int)Length).Min();
            return base.ReadAsync(buffer[..Math.Min(buffer.Length, (int)(next - position))], cancellationToken);
        }
    }

    /// <summary>A backend that always has one more event ready, one per read.</summary>
    private sealed class EndlessEvents : Stream
    {
        private static readonly byte[] Event = "data: {\"choices\":[]}\n\n"u8.ToArray();

        public int Reads { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Reads++;
            Event.CopyTo(buffer);
            return ValueTask.FromResult(Event.Length);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
