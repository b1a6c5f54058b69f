using Router.Actors.Config;

namespace Router.Tests.Config;

public sealed class ConfigUnitsTests
{
    [Theory]
    [InlineData("5s", 5_000)]
    [InlineData("100ms", 100)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData("30 seconds", 30_000)]
    [InlineData("1 second", 1_000)]
    [InlineData("2 minutes", 120_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("250", 250)]
    [InlineData("500us", 0.5)]
    [InlineData("1000000ns", 1)]
    [InlineData(" 10 millis ", 10)]
    public void TryParseDuration_WithUnit_GivesMilliseconds(string text, double expectedMs)
    {
        Assert.True(ConfigUnits.TryParseDuration(text, out var duration));
        Assert.Equal(expectedMs, duration.TotalMilliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("5 parsecs")]
    [InlineData("5S")]
    [InlineData("abc")]
    [InlineData("5s5")]
    public void TryParseDuration_Invalid_Fails(string text)
    {
        Assert.False(ConfigUnits.TryParseDuration(text, out _));
    }

    [Theory]
    [InlineData("10MiB", 10L * 1024 * 1024)]
    [InlineData("4MB", 4_000_000)]
    [InlineData("512k", 512L * 1024)]
    [InlineData("512K", 512L * 1024)]
    [InlineData("1kB", 1_000)]
    [InlineData("2Gi", 2L * 1024 * 1024 * 1024)]
    [InlineData("1 GB", 1_000_000_000)]
    [InlineData("1.5MiB", 1_572_864)]
    [InlineData("4096", 4_096)]
    [InlineData("100B", 100)]
    [InlineData("100 bytes", 100)]
    [InlineData("3 megabytes", 3_000_000)]
    [InlineData("3 mebibytes", 3L * 1024 * 1024)]
    [InlineData("1T", 1L << 40)]
    public void TryParseSize_WithUnit_GivesBytes(string text, long expected)
    {
        Assert.True(ConfigUnits.TryParseSize(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("MiB")]
    [InlineData("10 parsecs")]
    [InlineData("10mb")]
    public void TryParseSize_Invalid_Fails(string text)
    {
        Assert.False(ConfigUnits.TryParseSize(text, out _));
    }

    [Fact]
    public void Load_DurationsAndSizesInAnyForm_BindToTheModel()
    {
        var config = ConfigLoader.FromHoconText("""
            server { max-request-body = 512k, grpc-max-message = "1 MB" }
            routing.aging-interval = 30 seconds
            telemetry.sample-interval = 1500
            """, "test.conf", new Dictionary<string, string>());

        Assert.Equal(512 * 1024, config.Server.MaxRequestBodyBytes);
        Assert.Equal(1_000_000, config.Server.GrpcMaxMessageBytes);
        Assert.Equal(TimeSpan.FromSeconds(30), config.Routing.AgingInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), config.Telemetry.SampleInterval);
    }
}
