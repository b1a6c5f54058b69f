using System.Buffers;
using System.Diagnostics.Metrics;
using System.Text;
using Router.Telemetry.Exposition;

namespace Router.Tests.Telemetry.Exposition;

public sealed class PrometheusTextWriterTests
{
    [Theory]
    [InlineData("plain", "m{l=\"plain\"} 1\n")]
    [InlineData(@"C:\models", "m{l=\"C:\\\\models\"} 1\n")]
    [InlineData("say \"hi\"", "m{l=\"say \\\"hi\\\"\"} 1\n")]
    [InlineData("two\nlines", "m{l=\"two\\nlines\"} 1\n")]
    [InlineData("tab\tand é", "m{l=\"tab\tand é\"} 1\n")]
    [InlineData("", "m{l=\"\"} 1\n")]
    public void WriteSample_LabelValue_EscapesBackslashQuoteAndLineFeed(string value, string expected)
    {
        var labels = LabelSet.From([new("l", value)]);

        var text = Write(w => w.WriteSample("m", null, labels, null, 1));

        Assert.Equal(expected, text);
    }

    [Theory]
    [InlineData("Requests served.", "# HELP m Requests served.\n")]
    [InlineData(@"a\b", "# HELP m a\\\\b\n")]
    [InlineData("first\nsecond", "# HELP m first\\nsecond\n")]
    [InlineData("keeps \"quotes\"", "# HELP m keeps \"quotes\"\n")]
    public void WriteHelp_Text_EscapesBackslashAndLineFeedOnly(string help, string expected)
    {
        Assert.Equal(expected, Write(w => w.WriteHelp("m", help)));
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(3.0, "3")]
    [InlineData(1.5, "1.5")]
    [InlineData(0.1, "0.1")]
    [InlineData(123456789012.0, "123456789012")]
    [InlineData(1e-05, "1E-05")]
    [InlineData(-2.25, "-2.25")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    public void WriteSample_Value_GoParsableNumber(double value, string expected)
    {
        Assert.Equal($"m {expected}\n", Write(w => w.WriteSample("m", null, LabelSet.Empty, null, value)));
    }

    [Fact]
    public void WriteSample_BucketLabel_AfterTheOthers()
    {
        var labels = LabelSet.From([new("z", "2"), new("a", "1")]);

        var text = Write(w => w.WriteSample("h", "_bucket", labels, "+Inf", 7));

        Assert.Equal("h_bucket{a=\"1\",z=\"2\",le=\"+Inf\"} 7\n", text);
    }

    [Fact]
    public void WriteType_Line()
    {
        Assert.Equal("# TYPE m_total counter\n", Write(w => w.WriteType("m_total", "counter")));
    }

    [Theory]
    [InlineData("ollama_proxy.requests", "{request}", true, "ollama_proxy_requests_total")]
    [InlineData("ollama_proxy.request.duration", "s", false, "ollama_proxy_request_duration_seconds")]
    [InlineData("ollama_proxy.tokens_per_second", "{token}/s", false, "ollama_proxy_tokens_per_second")]
    [InlineData("ollama_proxy.energy", "Wh", true, "ollama_proxy_energy_watthours_total")]
    [InlineData("ollama_proxy.temperature", "Cel", false, "ollama_proxy_temperature_celsius")]
    [InlineData("ollama_proxy.battery.charge", "%", false, "ollama_proxy_battery_charge_percent")]
    [InlineData("ollama_proxy.ac.online", null, false, "ollama_proxy_ac_online")]
    [InlineData("net.io", "By/s", false, "net_io_bytes_per_second")]
    [InlineData("jobs.done_total", "1", true, "jobs_done_total")]
    [InlineData("9lives--metric", "", false, "_9lives_metric")]
    [InlineData("queue:depth", "{request}", false, "queue:depth")]
    public void MetricName_InstrumentNameAndUnit_PrometheusName(string instrument, string? unit, bool counter, string expected)
    {
        Assert.Equal(expected, PrometheusNames.MetricName(instrument, unit, counter));
    }

    [Theory]
    [InlineData("backend", "backend")]
    [InlineData("http.route", "http_route")]
    [InlineData("queue:lane", "queue_lane")]
    [InlineData("1st", "_1st")]
    public void LabelName_TagKey_Sanitized(string key, string expected)
    {
        Assert.Equal(expected, PrometheusNames.LabelName(key));
    }

    private static string Write(WriteAction action)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new PrometheusTextWriter(buffer);
        action(writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private delegate void WriteAction(PrometheusTextWriter writer);
}
