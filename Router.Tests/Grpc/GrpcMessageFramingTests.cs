using System.Buffers;
using Google.Protobuf;
using Router.Gateway.Grpc;
using Router.Gateway.Grpc.Contracts.Compute;

namespace Router.Tests.Grpc;

/// <summary>Length-Prefixed-Message framing as byte tables: each row a value and its bytes.</summary>
public sealed class GrpcMessageFramingTests
{
    public static TheoryData<bool, int, string> Headers => new()
    {
        { false, 0, "0000000000" },
        { false, 1, "0000000001" },
        { true, 5, "0100000005" },
        { false, 256, "0000000100" },
        { true, 0x01020304, "0101020304" },
        { false, int.MaxValue, "007FFFFFFF" },
    };

    [Theory]
    [MemberData(nameof(Headers))]
    public void WriteHeader_Value_ExpectedBytes(bool compressed, int length, string hex)
    {
        var bytes = new byte[GrpcMessageFraming.HeaderSize];
        GrpcMessageFraming.WriteHeader(bytes, compressed, length);
        Assert.Equal(hex, Convert.ToHexString(bytes));
    }

    public static TheoryData<string, bool, string, string> Messages => new()
    {
        // input bytes, compressed, payload, remaining bytes
        { "0000000000", false, "", "" },
        { "000000000268690A", false, "6869", "0A" },
        { "01000000020A00", true, "0A00", "" },
        { "00000000016100000000016200", false, "61", "00000000016200" },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void TryReadMessage_CompleteMessage_PayloadAndRest(string input, bool compressed, string payload, string rest)
    {
        var buffer = new ReadOnlySequence<byte>(Convert.FromHexString(input));

        Assert.True(GrpcMessageFraming.TryReadMessage(ref buffer, 1024, out var isCompressed, out var message));
        Assert.Equal(compressed, isCompressed);
        Assert.Equal(payload, Convert.ToHexString(message.ToArray()));
        Assert.Equal(rest, Convert.ToHexString(buffer.ToArray()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("00000000")]
    [InlineData("0000000002")]
    [InlineData("000000000268")]
    public void TryReadMessage_Incomplete_FalseAndBufferUnchanged(string input)
    {
        var bytes = Convert.FromHexString(input);
        var buffer = new ReadOnlySequence<byte>(bytes);

        Assert.False(GrpcMessageFraming.TryReadMessage(ref buffer, 1024, out _, out _));
        Assert.Equal(bytes.Length, buffer.Length);
    }

    [Fact]
    public void TryReadMessage_MessageSplitAcrossSegments_Reassembled()
    {
        // Header split 2+3, payload split 1+2 over five segments, as DATA frames may cut it.
        var buffer = Segments("0000", "000003", "61", "6263", "00");

        Assert.True(GrpcMessageFraming.TryReadMessage(ref buffer, 1024, out _, out var payload));
        Assert.Equal("abc", System.Text.Encoding.ASCII.GetString(payload.ToArray()));
        Assert.Equal("00", Convert.ToHexString(buffer.ToArray()));
    }

    [Fact]
    public void TryReadMessage_TwoMessagesCoalesced_ReadInTurn()
    {
        var buffer = new ReadOnlySequence<byte>(Convert.FromHexString("000000000161" + "000000000162"));

        Assert.True(GrpcMessageFraming.TryReadMessage(ref buffer, 1024, out _, out var first));
        Assert.True(GrpcMessageFraming.TryReadMessage(ref buffer, 1024, out _, out var second));
        Assert.False(GrpcMessageFraming.TryReadMessage(ref buffer, 1024, out _, out _));
        Assert.Equal("61", Convert.ToHexString(first.ToArray()));
        Assert.Equal("62", Convert.ToHexString(second.ToArray()));
        Assert.True(buffer.IsEmpty);
    }

    [Theory]
    [InlineData("0000000401", 1024)]      // 1025 > 1024, only the header has arrived
    [InlineData("00FFFFFFFF", 4194304)]   // 4 GiB declared
    [InlineData("0100000002", 1)]
    public void TryReadMessage_DeclaredLengthOverLimit_ResourceExhaustedBeforePayload(string header, int max)
    {
        var buffer = new ReadOnlySequence<byte>(Convert.FromHexString(header));

        GrpcStatusException? error = null;
        try
        {
            GrpcMessageFraming.TryReadMessage(ref buffer, max, out _, out _);
        }
        catch (GrpcStatusException ex)
        {
            error = ex;
        }

        Assert.Equal(GrpcStatusCode.ResourceExhausted, error?.Code);
    }

    [Theory]
    [InlineData("0200000000")]
    [InlineData("FF00000000")]
    public void TryReadMessage_BadCompressedFlag_Internal(string header)
    {
        var buffer = new ReadOnlySequence<byte>(Convert.FromHexString(header));

        GrpcStatusException? error = null;
        try
        {
            GrpcMessageFraming.TryReadMessage(ref buffer, 1024, out _, out _);
        }
        catch (GrpcStatusException ex)
        {
            error = ex;
        }

        Assert.Equal(GrpcStatusCode.Internal, error?.Code);
    }

    public static TheoryData<string, string> WrittenMessages => new()
    {
        { "", "0000000000" },
        { "hi", "00000000040A026869" },
        { "ab", "00000000040A026162" },
    };

    [Theory]
    [MemberData(nameof(WrittenMessages))]
    public void Write_Message_HeaderAndSerializedBytes(string prompt, string hex)
    {
        var output = new ArrayBufferWriter<byte>();
        GrpcMessageWriter.Write(output, new GenerateRequest { Prompt = prompt }, compress: false, maxMessageSize: 1024);
        Assert.Equal(hex, Convert.ToHexString(output.WrittenSpan));
    }

    [Fact]
    public void Write_Compressed_FlagSetAndPayloadInflatesToMessage()
    {
        var message = new GenerateRequest { Prompt = new string('z', 500) };
        var output = new ArrayBufferWriter<byte>();
        GrpcMessageWriter.Write(output, message, compress: true, maxMessageSize: 1024);

        var buffer = new ReadOnlySequence<byte>(output.WrittenMemory);
        Assert.True(GrpcMessageFraming.TryReadMessage(ref buffer, 1024, out var compressed, out var payload));
        Assert.True(compressed);
        Assert.True(payload.Length < message.CalculateSize());
        using var inflated = GrpcCompression.Decompress(payload, 1024);
        Assert.Equal(message, GenerateRequest.Parser.ParseFrom(inflated.WrittenSpan));
    }

    [Fact]
    public void Write_MessageOverSendLimit_ResourceExhausted()
    {
        var output = new ArrayBufferWriter<byte>();
        var ex = Assert.Throws<GrpcStatusException>(() =>
            GrpcMessageWriter.Write(output, new GenerateRequest { Prompt = new string('x', 100) }, compress: false, maxMessageSize: 50));
        Assert.Equal(GrpcStatusCode.ResourceExhausted, ex.Code);
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void Decompress_BombOverLimit_ResourceExhausted()
    {
        var message = new GenerateRequest { Prompt = new string('a', 100_000) };
        var output = new ArrayBufferWriter<byte>();
        GrpcMessageWriter.Write(output, message, compress: true, maxMessageSize: 200_000);
        var buffer = new ReadOnlySequence<byte>(output.WrittenMemory);
        Assert.True(GrpcMessageFraming.TryReadMessage(ref buffer, 200_000, out _, out var payload));
        var compressedPayload = new ReadOnlySequence<byte>(payload.ToArray());

        var ex = Assert.Throws<GrpcStatusException>(() => GrpcCompression.Decompress(compressedPayload, 4096).Dispose());
        Assert.Equal(GrpcStatusCode.ResourceExhausted, ex.Code);
    }

    [Fact]
    public void Decompress_LimitIntMax_NoOverflow()
    {
        var output = new ArrayBufferWriter<byte>();
        GrpcMessageWriter.Write(output, new GenerateRequest { Prompt = "small" }, compress: true, maxMessageSize: int.MaxValue);
        var buffer = new ReadOnlySequence<byte>(output.WrittenMemory);
        Assert.True(GrpcMessageFraming.TryReadMessage(ref buffer, int.MaxValue, out _, out var payload));

        using var inflated = GrpcCompression.Decompress(payload, int.MaxValue);
        Assert.Equal("small", GenerateRequest.Parser.ParseFrom(inflated.WrittenSpan).Prompt);
    }

    [Fact]
    public void Decompress_NotGzip_Internal()
    {
        var ex = Assert.Throws<GrpcStatusException>(() => GrpcCompression.Decompress(new ReadOnlySequence<byte>([1, 2, 3, 4]), 1024).Dispose());
        Assert.Equal(GrpcStatusCode.Internal, ex.Code);
    }

    private static ReadOnlySequence<byte> Segments(params string[] hex)
    {
        Segment? first = null;
        Segment? last = null;
        foreach (var part in hex)
        {
            var segment = new Segment(Convert.FromHexString(part));
            if (first is null)
            {
                first = last = segment;
            }
            else
            {
                last = last!.Append(segment);
            }
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes) => Memory = bytes;

        public Segment Append(Segment next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
            return next;
        }
    }
}
