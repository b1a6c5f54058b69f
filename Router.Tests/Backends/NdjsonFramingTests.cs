using System.Buffers;
using System.Text;
using Router.Actors.Backends;

namespace Router.Tests.Backends;

public sealed class NdjsonFramingTests
{
    public static TheoryData<string, string[], string> Lines => new()
    {
        // input, complete lines, bytes left for the next read
        { "{\"a\":1}\n", ["{\"a\":1}"], "" },
        { "{\"a\":1}\n{\"b\":2}\n", ["{\"a\":1}", "{\"b\":2}"], "" },
        { "{\"a\":1}\r\n{\"b\":2}\r\n", ["{\"a\":1}", "{\"b\":2}"], "" },
        { "\n\r\n{\"a\":1}\n\n", ["{\"a\":1}"], "" },
        { "{\"a\":1}\n{\"b\"", ["{\"a\":1}"], "{\"b\"" },
        { "{\"partial\"", [], "{\"partial\"" },
        { "", [], "" },
    };

    [Theory]
    [MemberData(nameof(Lines))]
    public void TryReadLine_Table_ReturnsCompleteLinesAndKeepsTheRest(string input, string[] expected, string rest)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(input));
        var lines = new List<string>();
        while (NdjsonFraming.TryReadLine(ref buffer, out ReadOnlySequence<byte> line, out bool oversized))
        {
            Assert.False(oversized);
            lines.Add(Encoding.UTF8.GetString(line));
        }

        Assert.Equal(expected, lines);
        Assert.Equal(rest, Encoding.UTF8.GetString(buffer));
    }

    [Fact]
    public void TryReadLine_SplitAtEveryPosition_YieldsTheSameLines()
    {
        byte[] input = Encoding.UTF8.GetBytes("{\"response\":\"Hé\",\"done\":false}\r\n\n{\"response\":\"llo\",\"done\":false}\n{\"done\":true}\n");
        string[] expected = ["{\"response\":\"Hé\",\"done\":false}", "{\"response\":\"llo\",\"done\":false}", "{\"done\":true}"];

        for (int first = 0; first <= input.Length; first++)
        {
            for (int second = first; second <= input.Length; second += 7)
            {
                List<string> lines = SequenceBuilder.Feed(input, [first, second], ParseAll);
                Assert.Equal(expected, lines);
            }
        }
    }

    [Fact]
    public void TryReadLine_LineOverLimit_ReportsOversized()
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("0123456789ABC\n"));

        bool read = NdjsonFraming.TryReadLine(ref buffer, out _, out bool oversized, maxLineBytes: 8);

        Assert.False(read);
        Assert.True(oversized);
    }

    [Fact]
    public void TryReadLine_UnterminatedLineOverLimit_ReportsOversizedBeforeTheEnd()
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("0123456789ABC"));

        bool read = NdjsonFraming.TryReadLine(ref buffer, out _, out bool oversized, maxLineBytes: 8);

        Assert.False(read);
        Assert.True(oversized);
    }

    [Fact]
    public void TryReadLine_LineAtLimitWithCrLf_IsAccepted()
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("01234567\r\n"));

        bool read = NdjsonFraming.TryReadLine(ref buffer, out ReadOnlySequence<byte> line, out bool oversized, maxLineBytes: 8);

        Assert.True(read);
        Assert.False(oversized);
        Assert.Equal("01234567", Encoding.UTF8.GetString(line));
    }

    private static (List<string>, ReadOnlySequence<byte>) ParseAll(ReadOnlySequence<byte> buffer)
    {
        var lines = new List<string>();
        while (NdjsonFraming.TryReadLine(ref buffer, out ReadOnlySequence<byte> line, out bool oversized))
        {
            Assert.False(oversized);
            lines.Add(Encoding.UTF8.GetString(line));
        }

        return (lines, buffer);
    }
}
