using Router.Actors.Routing;

namespace Router.Benchmarks.Routing;

/// <summary>What happened to every request of one run.</summary>
internal sealed class SimResults
{
    private readonly List<double>[] _latencyMs = [[], [], [], []];
    private readonly List<double>[] _waitMs = [[], [], [], []];
    private readonly int[] _shed = new int[4];
    private readonly int[] _refused = new int[4];
    private readonly Dictionary<string, int> _byDevice = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _refusals = new(StringComparer.Ordinal);

    public SimResults(string policy) => Policy = policy;

    public string Policy { get; }
    public double EnergyWh { get; set; }
    public int Violations { get; private set; }
    public int WithLatencyLimit { get; private set; }
    public IReadOnlyDictionary<string, int> ByDevice => _byDevice;
    public IReadOnlyDictionary<string, int> Refusals => _refusals;
    public int ShedTotal => _shed.Sum();
    public int RefusedTotal => _refused.Sum();
    public int ServedTotal => _latencyMs.Sum(l => l.Count);

    public void Served(WorkItem item, string deviceId, double startMs, double firstTokenMs)
    {
        int p = (int)item.Priority;
        double latency = firstTokenMs - item.ArrivalMs;
        _latencyMs[p].Add(latency);
        _waitMs[p].Add(startMs - item.ArrivalMs);
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

    public void Shed(WorkItem item) => _shed[(int)item.Priority]++;

    public void Refused(WorkItem item, string why)
    {
        _refused[(int)item.Priority]++;
        _refusals[why] = _refusals.GetValueOrDefault(why) + 1;
    }

    public int ShedAt(Priority priority) => _shed[(int)priority];

    public int RefusedAt(Priority priority) => _refused[(int)priority];

    public int ServedAt(Priority priority) => _latencyMs[(int)priority].Count;

    /// <summary>Nearest-rank percentile of the time to first token (queue included), or NaN when nothing was served.</summary>
    public double LatencyPercentile(Priority priority, double percentile) => Percentile(_latencyMs[(int)priority], percentile);

    public double WaitPercentile(Priority priority, double percentile) => Percentile(_waitMs[(int)priority], percentile);

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
