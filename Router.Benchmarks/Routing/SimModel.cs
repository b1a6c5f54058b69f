using System.Collections.Immutable;
using Router.Actors.Routing;

namespace Router.Benchmarks.Routing;

/// <summary>One simulated device: what it costs to serve a request there.</summary>
/// <param name="TtftMs">Time to first token for a short prompt (the figure the router is configured with).</param>
/// <param name="PrefillTokensPerSecond">Prompt processing speed: a long prompt adds to the first-token time.</param>
/// <param name="TemperatureRiseC">Degrees above ambient after long continuous load (the daemon's simulated devices use the same figures).</param>
internal sealed record DeviceProfile(string Id, string Hardware, double TtftMs, double TokensPerSecond, double PrefillTokensPerSecond, double Watts, double TemperatureRiseC)
{
    /// <summary>Where every device idles, in °C.</summary>
    public const double AmbientC = 40;

    /// <summary>The devices' configured hot threshold (backend-defaults.sensors.hot-c) and limit (limit-c).</summary>
    public const double HotC = 80, LimitC = 95;

    /// <summary>How fast a device's temperature follows its load (first-order lag), in ms.</summary>
    public const double ThermalTimeConstantMs = 30_000;

    /// <summary>The four default devices (issue 3), with generation speeds matching the scorer's defaults.</summary>
    public static ImmutableArray<DeviceProfile> Defaults { get; } =
    [
        new("ollama-npu", "npu", 800, 15, 600, 3, 15),
        new("ollama-igpu", "igpu", 350, 30, 1200, 12, 35),
        new("ollama-nvidia", "nvidia", 150, 80, 6000, 55, 42),
        new("ollama-cpu", "cpu", 1200, 10, 250, 28, 45),
    ];

    public double FirstTokenMs(WorkItem item) => TtftMs + (item.PromptTokens * 1000.0 / PrefillTokensPerSecond);

    public double ServiceMs(WorkItem item) => FirstTokenMs(item) + (item.AnswerTokens * 1000.0 / TokensPerSecond);
}

/// <summary>One request of the workload. The router is told <see cref="MaxTokens"/>; the answer is <see cref="AnswerTokens"/> long.</summary>
internal sealed record WorkItem(
    int Id,
    double ArrivalMs,
    Priority Priority,
    string Kind,
    int PromptTokens,
    int MaxTokens,
    int AnswerTokens,
    int? MaxLatencyMs,
    bool LatencyCritical,
    bool PreferPowerEfficiency);

/// <summary>AC until <see cref="UnplugAtMs"/>, then the battery drains linearly to <see cref="EndPercent"/> at <see cref="EndMs"/>.</summary>
internal sealed record PowerSchedule(double UnplugAtMs, double EndMs, double EndPercent)
{
    public static PowerSchedule AlwaysOnAc { get; } = new(double.MaxValue, double.MaxValue, 100);

    public bool OnAc(double nowMs) => nowMs < UnplugAtMs;

    public double BatteryPercent(double nowMs) =>
        OnAc(nowMs) ? 100 : 100 - ((100 - EndPercent) * Math.Min(1, (nowMs - UnplugAtMs) / (EndMs - UnplugAtMs)));
}

/// <summary>A seeded mixed workload: Poisson arrivals of four kinds of request, one per priority.</summary>
internal static class Workload
{
    /// <summary>
    /// Critical: voice turns (short prompt and answer, first token within 1 s).
    /// High: interactive chat that says it is latency-critical (first token within 1.5 s).
    /// Normal: chat with no hints. Best effort: batch summaries (long prompt and answer).
    /// A few normal requests prefer power efficiency.
    /// </summary>
    public static ImmutableArray<WorkItem> Mixed(int seed, double durationMs, double meanInterarrivalMs)
    {
        var random = new Random(seed);
        var items = ImmutableArray.CreateBuilder<WorkItem>();
        double now = 0;
        int id = 0;
        while (true)
        {
            now += -Math.Log(1 - random.NextDouble()) * meanInterarrivalMs;
            if (now >= durationMs)
            {
                break;
            }

            double kind = random.NextDouble();
            WorkItem item = kind switch
            {
                < 0.10 => Item(random, id, now, Priority.Critical, "voice", (20, 80), (16, 64), 1000, latencyCritical: false, preferPower: false),
                < 0.30 => Item(random, id, now, Priority.High, "chat-rt", (50, 300), (64, 256), 1500, latencyCritical: true, preferPower: false),
                < 0.65 => Item(random, id, now, Priority.Normal, "chat", (100, 1000), (64, 512), null, latencyCritical: false, preferPower: false),
                < 0.70 => Item(random, id, now, Priority.Normal, "chat-eco", (100, 1000), (64, 512), null, latencyCritical: false, preferPower: true),
                _ => Item(random, id, now, Priority.BestEffort, "batch", (500, 2000), (256, 1024), null, latencyCritical: false, preferPower: false),
            };
            items.Add(item);
            id++;
        }

        return items.ToImmutable();
    }

    private static WorkItem Item(Random random, int id, double now, Priority priority, string kind, (int Min, int Max) prompt, (int Min, int Max) answer, int? maxLatencyMs, bool latencyCritical, bool preferPower)
    {
        int promptTokens = random.Next(prompt.Min, prompt.Max + 1);
        int maxTokens = random.Next(answer.Min, answer.Max + 1);
        // Answers end before max_tokens more often than not.
        int answerTokens = Math.Max(1, (int)(maxTokens * (0.5 + (0.5 * random.NextDouble()))));
        return new WorkItem(id, now, priority, kind, promptTokens, maxTokens, answerTokens, maxLatencyMs, latencyCritical, preferPower);
    }
}
