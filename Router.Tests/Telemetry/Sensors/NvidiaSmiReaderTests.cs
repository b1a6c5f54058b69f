using System.Diagnostics;
using Router.Telemetry.Sensors;

namespace Router.Tests.Telemetry.Sensors;

public sealed class NvidiaSmiReaderTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestClock.Create();

    [Fact]
    public async Task ReadAsync_FakeNvidiaSmi_ParsesEveryGpuAndNotAvailableFields()
    {
        // The script answers only the exact query the reader must send.
        using var smi = new FakeExecutable("nvidia-smi", """
            [ "$1" = "--query-gpu=temperature.gpu,power.draw,utilization.gpu,fan.speed" ] || exit 7
            [ "$2" = "--format=csv,noheader,nounits" ] || exit 8
            echo "45, 35.20, 12, 30"
            echo "61, [N/A], 99, [Not Supported]"
            """);
        var reader = new NvidiaSmiReader(_time, smi.Path, TimeSpan.FromSeconds(10));

        var reading = await reader.ReadAsync();

        Assert.True(reading.IsAvailable, reading.UnavailableReason);
        Assert.Equal(
            new[] { new NvidiaGpuReading(0, 45, 35.2, 12, 30), new NvidiaGpuReading(1, 61, null, 99, null) },
            reading.Gpus.ToArray());
        Assert.Equal(35.2, reading.PowerWatts);
        Assert.Equal(61.0, reading.MaxTemperatureC);
        Assert.Equal(_time.GetUtcNow(), reading.Timestamp);
    }

    [Fact]
    public async Task ReadAsync_NvidiaSmiHangs_KilledAtTheTimeLimitAndUnavailable()
    {
        using var smi = new FakeExecutable("nvidia-smi", "exec sleep 60");
        var reader = new NvidiaSmiReader(_time, smi.Path, TimeSpan.FromMilliseconds(300));
        var stopwatch = Stopwatch.StartNew();

        var reading = await reader.ReadAsync();

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"took {stopwatch.Elapsed}");
        Assert.False(reading.IsAvailable);
        Assert.False(reading.Absent);
        Assert.Equal("nvidia-smi did not answer within 0.3 s and was killed", reading.UnavailableReason);
    }

    [Fact]
    public async Task ReadAsync_NoSuchExecutable_AbsentSilently()
    {
        var reader = new NvidiaSmiReader(_time, "/nonexistent/bin/nvidia-smi", TimeSpan.FromSeconds(2));

        var first = await reader.ReadAsync();
        var second = await reader.ReadAsync();

        Assert.True(first.Absent);
        Assert.True(second.Absent);
        Assert.Empty(second.Gpus);
        Assert.Null(second.PowerWatts);
    }

    [Fact]
    public async Task ReadAsync_NameNotOnPath_Absent()
    {
        var reader = new NvidiaSmiReader(_time, "nvidia-smi-that-is-not-installed", TimeSpan.FromSeconds(2));

        var reading = await reader.ReadAsync();

        Assert.True(reading.Absent);
    }

    [Fact]
    public async Task ReadAsync_DriverError_UnavailableWithExitCode()
    {
        using var smi = new FakeExecutable("nvidia-smi", """
            echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." >&2
            exit 9
            """);
        var reader = new NvidiaSmiReader(_time, smi.Path, TimeSpan.FromSeconds(10));

        var reading = await reader.ReadAsync();

        Assert.False(reading.IsAvailable);
        Assert.False(reading.Absent);
        Assert.StartsWith("nvidia-smi exited with 9: NVIDIA-SMI has failed", reading.UnavailableReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "nvidia-smi reported no GPU")]
    [InlineData("No devices were found", "nvidia-smi printed an unexpected line: 'No devices were found'")]
    [InlineData("45, 30, 10", "nvidia-smi printed an unexpected line: '45, 30, 10'")]
    public void Parse_UnexpectedOutput_UnavailableWithReason(string output, string reason)
    {
        var reading = NvidiaSmiReader.Parse(_time.GetUtcNow(), output);

        Assert.Equal(reason, reading.UnavailableReason);
        Assert.Empty(reading.Gpus);
    }

    [Fact]
    public void Parse_GarbageField_ThatFieldNull()
    {
        var reading = NvidiaSmiReader.Parse(_time.GetUtcNow(), "abc, 12.5, [Unknown Error], 40\n");

        Assert.Equal(new NvidiaGpuReading(0, null, 12.5, null, 40), Assert.Single(reading.Gpus));
    }
}
