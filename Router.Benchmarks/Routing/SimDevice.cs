using System.Collections.Immutable;
using Router.Actors.Routing;

namespace Router.Benchmarks.Routing;

/// <summary>
/// A simulated backend as its BackendActor would run it: one slot (max-concurrent 1), a waiting
/// list ordered by priority with aging, per-priority bounds, and shedding of the lowest priority
/// first when the whole queue is full. Time is the simulation's virtual clock, in milliseconds.
/// </summary>
internal sealed class SimDevice
{
    private const double EwmaWeight = 0.2;
    private readonly List<WorkItem> _waiting = [];
    private readonly int[] _depth = new int[4];
    private readonly SimOptions _options;
    private double _ttftEwma;
    private double _tpsEwma;
    private int _samples;

    public SimDevice(DeviceProfile profile, SimOptions options)
    {
        Profile = profile;
        _options = options;
    }

    public DeviceProfile Profile { get; }
    public WorkItem? Current { get; private set; }
    public double CurrentEndMs { get; private set; } = double.MaxValue;
    private double _currentStartMs;
    private double _currentFirstTokenMs;
    public double EnergyWh { get; private set; }
    public int Served { get; private set; }
    public int Waiting => _waiting.Count;
    public int InFlight => Current is null ? 0 : 1;

    /// <summary>Queues or starts the request. Returns what was shed to make room (the newcomer itself, another, or nothing).</summary>
    public WorkItem? Admit(WorkItem item, double nowMs)
    {
        if (Current is null)
        {
            Start(item, nowMs);
            return null;
        }

        if (item.Priority == Priority.Critical && _options.CriticalPreemptsBelow is { } below && Current.Priority < below)
        {
            // Preemption: the request in flight is cancelled (its client gets an error, like any
            // shed request) and the critical one starts at once. Energy counts what was spent.
            WorkItem victim = Current;
            EnergyWh += Profile.Watts * (nowMs - _currentStartMs) / 3_600_000.0;
            Start(item, nowMs);
            return victim;
        }

        int p = (int)item.Priority;
        if (_depth[p] >= _options.QueueLimits[p])
        {
            return item;
        }

        WorkItem? shed = null;
        if (_waiting.Count >= _options.TotalQueueLimit)
        {
            // Overload: shed the newest waiting request of the lowest priority, if lower than the newcomer's.
            int victim = -1;
            for (int i = 0; i < _waiting.Count; i++)
            {
                if (_waiting[i].Priority < item.Priority && (victim < 0 || _waiting[i].Priority < _waiting[victim].Priority
                    || (_waiting[i].Priority == _waiting[victim].Priority && _waiting[i].ArrivalMs > _waiting[victim].ArrivalMs)))
                {
                    victim = i;
                }
            }

            if (victim < 0)
            {
                return item;
            }

            shed = _waiting[victim];
            _depth[(int)shed.Priority]--;
            _waiting.RemoveAt(victim);
        }

        _waiting.Add(item);
        _depth[p]++;
        return shed;
    }

    /// <summary>Ends the request in flight and starts the next one: highest aged priority, then oldest.</summary>
    public void Complete(double nowMs, SimResults results)
    {
        if (Current is { } done)
        {
            EnergyWh += Profile.Watts * (nowMs - _currentStartMs) / 3_600_000.0;
            Served++;
            results.Served(done, Profile.Id, _currentStartMs, _currentFirstTokenMs);
        }

        Current = null;
        CurrentEndMs = double.MaxValue;
        if (_waiting.Count == 0)
        {
            return;
        }

        int best = 0;
        for (int i = 1; i < _waiting.Count; i++)
        {
            int a = AgedPriority(_waiting[i], nowMs), b = AgedPriority(_waiting[best], nowMs);
            if (a > b || (a == b && _waiting[i].ArrivalMs < _waiting[best].ArrivalMs))
            {
                best = i;
            }
        }

        WorkItem next = _waiting[best];
        _waiting.RemoveAt(best);
        _depth[(int)next.Priority]--;
        Start(next, nowMs);
    }

    /// <summary>What the BackendActor would publish now.</summary>
    public BackendSnapshot Snapshot(string model) => new()
    {
        Id = Profile.Id,
        Name = Profile.Id,
        Hardware = Profile.Hardware,
        Health = BackendHealth.Healthy,
        PowerWatts = Profile.Watts,
        AvgLatencyMs = Profile.TtftMs,
        MaxConcurrent = 1,
        InFlight = InFlight,
        InFlightByPriority = ImmutableArray.Create(
            Current?.Priority == Priority.BestEffort ? 1 : 0,
            Current?.Priority == Priority.Normal ? 1 : 0,
            Current?.Priority == Priority.High ? 1 : 0,
            Current?.Priority == Priority.Critical ? 1 : 0),
        QueueDepthByPriority = ImmutableArray.Create(_depth),
        QueueLimitByPriority = _options.QueueLimits,
        Models = ImmutableHashSet.Create(model),
        ModelsKnown = true,
        MetricsByModel = _samples == 0
            ? ImmutableDictionary<string, ModelMetrics>.Empty
            : ImmutableDictionary<string, ModelMetrics>.Empty.Add(model, new ModelMetrics(_ttftEwma, _tpsEwma, _samples)),
    };

    /// <summary>Waiting requests age one level per interval, up to High: they are never starved, and never compete with Critical.</summary>
    private int AgedPriority(WorkItem item, double nowMs) =>
        item.Priority == Priority.Critical
            ? (int)Priority.Critical
            : Math.Min((int)Priority.High, (int)item.Priority + (int)((nowMs - item.ArrivalMs) / _options.AgingIntervalMs));

    private void Start(WorkItem item, double nowMs)
    {
        double firstTokenMs = Profile.FirstTokenMs(item);
        double serviceMs = Profile.ServiceMs(item);
        Current = item;
        CurrentEndMs = nowMs + serviceMs;
        _currentStartMs = nowMs;
        _currentFirstTokenMs = nowMs + firstTokenMs;

        double tps = item.AnswerTokens * 1000.0 / (serviceMs - firstTokenMs);
        _ttftEwma = _samples == 0 ? firstTokenMs : _ttftEwma + (EwmaWeight * (firstTokenMs - _ttftEwma));
        _tpsEwma = _samples == 0 ? tps : _tpsEwma + (EwmaWeight * (tps - _tpsEwma));
        _samples++;
    }
}

/// <summary>Queue bounds and aging of the simulated backends.</summary>
internal sealed record SimOptions
{
    public ImmutableArray<int> QueueLimits { get; init; } = ImmutableArray.Create(4, 8, 8, 8);
    public int TotalQueueLimit { get; init; } = 12;
    public double AgingIntervalMs { get; init; } = 5000;

    /// <summary>A critical request preempts a request in flight below this priority; null: no preemption.</summary>
    public Priority? CriticalPreemptsBelow { get; init; }
}
