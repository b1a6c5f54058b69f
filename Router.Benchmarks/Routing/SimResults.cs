using Router.Actors.Routing;

namespace Router.Benchmarks.Routing;

/// <summary>What happened to every request of one run, and what it cost.</summary>
internal sealed class SimResults
{
    private readonly List<double>[] _latencyMs = [[], [], [], []];
    private readonly List<double>[] _waitMs = [[], [], [], []];
    private readonly List<double>[] _latencyByPhase = [[], []];
    private readonly double[] _energyByPhase = new double[2];
    private readonly double[] _longestOutcomeMs = new double[4];
    private readonly int[] _shed = new int[4];
    private readonly int[] _refused = new int[4];
    private readonly int[] _arrived = new int[4];
    private readonly Dictionary<string, int> _byDevice = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _refusals = new(StringComparer.Ordinal);
    private readonly PowerSchedule _power;

    public SimResults(string policy, PowerSchedule power)
    {
        Policy = policy;
        _power = power;
    }

    public string Policy { get; }
    public double EnergyWh { get; set; }
    public int Violations { get; private set; }
    public int WithLatencyLimit { get; private set; }
    public IReadOnlyDictionary<string, int> ByDevice => _byDevice;
    public IReadOnlyDictionary<string, int> Refusals => _refusals;
    public int ShedTotal => _shed.Sum();
    public int RefusedTotal => _refused.Sum();
    public int ServedTotal => _latencyMs.Sum(l => l.Count);

    /// <summary>Seconds each device spent at or above its hot threshold, by device id.</summary>
    public Dictionary<string, double> SecondsAboveHot { get; } = new(StringComparer.Ordinal);

    public double SecondsAboveHotTotal => SecondsAboveHot.Values.Sum();

    /// <summary>Requests that moved to another device because routing.max-queue-wait ran out.</summary>
    public int MovedOn { get; set; }

    public void Arrived(WorkItem item) => _arrived[(int)item.Priority]++;

    public void Served(WorkItem item, string deviceId, double startMs, double firstTokenMs)
    {
        int p = (int)item.Priority;
        double latency = firstTokenMs - item.ArrivalMs;
        _latencyMs[p].Add(latency);
        _waitMs[p].Add(startMs - item.ArrivalMs);
        _latencyByPhase[Phase(item.ArrivalMs)].Add(latency);
        _longestOutcomeMs[p] = Math.Max(_longestOutcomeMs[p], startMs - item.ArrivalMs);
        _byDevice[deviceId] = _byDevice.GetValueOrDefault(deviceId) + 1;
        if (item.MaxLatencyMs is { } max)
        {
            WithLatencyLimit++;
            if (latency > max)
            {
                Violations++;
            }
        }
    }

    /// <summary>Refused for a full queue (429), or cancelled to make room, at <paramref name="nowMs"/>.</summary>
    public void Shed(WorkItem item, double nowMs)
    {
        _shed[(int)item.Priority]++;
        Ended(item, nowMs);
    }

    /// <summary>Refused with a 503 (nothing could serve, or every device it tried kept it waiting too long), at <paramref name="nowMs"/>.</summary>
    public void Refused(WorkItem item, string why, double nowMs)
    {
        _refused[(int)item.Priority]++;
        _refusals[why] = _refusals.GetValueOrDefault(why) + 1;
        Ended(item, nowMs);
    }

    /// <summary>Energy a device spent on a request that started at <paramref name="startMs"/>.</summary>
    public void AddEnergy(double startMs, double wattHours) => _energyByPhase[Phase(startMs)] += wattHours;

    public int ShedAt(Priority priority) => _shed[(int)priority];

    public int RefusedAt(Priority priority) => _refused[(int)priority];

    public int ServedAt(Priority priority) => _latencyMs[(int)priority].Count;

    public int ArrivedAt(Priority priority) => _arrived[(int)priority];

    /// <summary>The longest any request of <paramref name="priority"/> waited for a slot or a refusal, in ms (what routing.max-queue-wait bounds).</summary>
    public double LongestOutcomeMs(Priority priority) => _longestOutcomeMs[(int)priority];

    /// <summary>Energy of the requests that started on AC (<paramref name="onAc"/>) or on battery.</summary>
    public double EnergyWhOn(bool onAc) => _energyByPhase[onAc ? 0 : 1];

    /// <summary>Mean time to first token of the requests that arrived on AC or on battery, in ms.</summary>
    public double MeanLatencyOn(bool onAc) => _latencyByPhase[onAc ? 0 : 1] is { Count: > 0 } l ? l.Average() : double.NaN;

    /// <summary>Nearest-rank percentile of the time to first token (queue included), or NaN when nothing was served.</summary>
    public double LatencyPercentile(Priority priority, double percentile) => Percentile(_latencyMs[(int)priority], percentile);

    public double WaitPercentile(Priority priority, double percentile) => Percentile(_waitMs[(int)priority], percentile);

    private int Phase(double ms) => _power.OnAc(ms) ? 0 : 1;

    private void Ended(WorkItem item, double nowMs)
    {
        int p = (int)item.Priority;
        _longestOutcomeMs[p] = Math.Max(_longestOutcomeMs[p], nowMs - item.ArrivalMs);
    }

    private static double Percentile(List<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.ToArray();
        Array.Sort(sorted);
        int rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
