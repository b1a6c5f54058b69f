using Router.Gateway.Grpc;

namespace Router.Tests.Grpc;

/// <summary>Header values of PROTOCOL-HTTP2.md as tables: grpc-timeout, grpc-message, content-type, encodings.</summary>
public sealed class GrpcHeaderTests
{
    public static TheoryData<string, long> Timeouts => new()
    {
        { "1H", TimeSpan.FromHours(1).Ticks },
        { "2M", TimeSpan.FromMinutes(2).Ticks },
        { "3S", TimeSpan.FromSeconds(3).Ticks },
        { "100m", TimeSpan.FromMilliseconds(100).Ticks },
        { "5u", 50 },
        { "1000n", 10 },
        { "99n", 0 },
        { "0S", 0 },
        { "99999999S", TimeSpan.FromSeconds(99_999_999).Ticks },
        { "99999999H", TimeSpan.FromHours(99_999_999).Ticks },
    };

    [Theory]
    [MemberData(nameof(Timeouts))]
    public void TryParseTimeout_Valid_Duration(string value, long ticks)
    {
        Assert.True(GrpcTimeout.TryParse(value, out var timeout));
        Assert.Equal(ticks, timeout.Ticks);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("1x")]
    [InlineData("1s")]
    [InlineData("-1S")]
    [InlineData("1.5S")]
    [InlineData(" 1S")]
    [InlineData("123456789S")]
    public void TryParseTimeout_Invalid_False(string? value) => Assert.False(GrpcTimeout.TryParse(value, out _));

    [Theory]
    [InlineData("", "")]
    [InlineData("plain ascii ~!", "plain ascii ~!")]
    [InlineData("100%", "100%25")]
    [InlineData("a\nb\tc", "a%0Ab%09c")]
    [InlineData("café", "caf%C3%A9")]
    [InlineData("\u007f", "%7F")]
    [InlineData("日本", "%E6%97%A5%E6%9C%AC")]
    public void PercentEncode_Message_SpecBytes(string message, string encoded)
    {
        Assert.Equal(encoded, GrpcPercentEncoding.Encode(message));
        Assert.Equal(message, GrpcPercentEncoding.Decode(encoded));
    }

    [Theory]
    [InlineData("%zz", "%zz")]
    [InlineData("50%", "50%")]
    [InlineData("%4", "%4")]
    public void PercentDecode_Malformed_KeptAsIs(string value, string decoded) => Assert.Equal(decoded, GrpcPercentEncoding.Decode(value));

    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("application/grpc; charset=utf-8", true)]
    [InlineData("APPLICATION/GRPC", true)]
    [InlineData("application/grpc+json", false)]
    [InlineData("application/json", false)]
    [InlineData("application/grpc-web", false)]
    [InlineData(null, false)]
    public void IsGrpcProtoContentType_Value_Expected(string? contentType, bool expected) =>
        Assert.Equal(expected, GrpcProtocol.IsGrpcProtoContentType(contentType));

    [Theory]
    [InlineData("gzip", "identity,deflate,gzip", true)]
    [InlineData("gzip", "gzip", true)]
    [InlineData("gzip", "identity, gzip ", true)]
    [InlineData("gzip", "identity", false)]
    [InlineData("gzip", null, false)]
    [InlineData(null, "identity,gzip", false)]
    [InlineData("identity", "gzip", false)]
    public void ShouldCompressResponse_Headers_Expected(string? requestEncoding, string? acceptEncoding, bool expected) =>
        Assert.Equal(expected, GrpcCompression.ShouldCompressResponse(requestEncoding, acceptEncoding));
}
