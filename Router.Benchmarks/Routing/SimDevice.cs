using System.Collections.Immutable;
using Router.Actors.Config;
using Router.Actors.Routing;

namespace Router.Benchmarks.Routing;

/// <summary>
/// A simulated backend as its BackendActor would run it: one slot (max-concurrent 1), a waiting
/// list ordered by priority with aging, per-priority bounds, shedding of the lowest priority first
/// when the whole queue is full, and routing.max-queue-wait: a request that waited that long
/// leaves the queue to try the next device. Its temperature follows its load (a first-order lag,
/// as the daemon's simulated devices do). Time is the simulation's virtual clock, in milliseconds.
/// </summary>
internal sealed class SimDevice
{
    private const double EwmaWeight = 0.2;
    private readonly List<QueuedItem> _waiting = [];
    private readonly int[] _depth = new int[4];
    private readonly SimOptions _options;
    private readonly SimResults _results;
    private double _ttftEwma;
    private double _tpsEwma;
    private int _samples;
    private double _currentStartMs;
    private double _currentFirstTokenMs;
    private double _temperatureC = DeviceProfile.AmbientC;
    private double _thermalAtMs;

    public SimDevice(DeviceProfile profile, SimOptions options, SimResults results)
    {
        Profile = profile;
        _options = options;
        _results = results;
    }

    public DeviceProfile Profile { get; }
    public WorkItem? Current { get; private set; }
    public double CurrentEndMs { get; private set; } = double.MaxValue;
    public double EnergyWh { get; private set; }
    public int Served { get; private set; }
    public int Waiting => _waiting.Count;
    public int InFlight => Current is null ? 0 : 1;

    /// <summary>Seconds this device spent at or above <see cref="DeviceProfile.HotC"/> so far.</summary>
    public double SecondsAboveHot { get; private set; }

    /// <summary>When the longest-waiting request runs out of routing.max-queue-wait, or <see cref="double.MaxValue"/>.</summary>
    public double NextDeadlineMs
    {
        get
        {
            double next = double.MaxValue;
            foreach (QueuedItem w in _waiting)
            {
                next = Math.Min(next, w.DeadlineMs);
            }

            return next;
        }
    }

    /// <summary>The device's temperature at <paramref name="nowMs"/> (advances its thermal state).</summary>
    public double TemperatureAt(double nowMs)
    {
        AdvanceThermal(nowMs);
        return _temperatureC;
    }

    /// <summary>Queues or starts the request. Returns what was shed to make room (the newcomer itself, another, or nothing).</summary>
    public WorkItem? Admit(WorkItem item, double nowMs)
    {
        AdvanceThermal(nowMs);
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
            AddEnergy(nowMs);
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
                WorkItem w = _waiting[i].Item;
                if (w.Priority < item.Priority && (victim < 0 || w.Priority < _waiting[victim].Item.Priority
                    || (w.Priority == _waiting[victim].Item.Priority && _waiting[i].EnqueuedMs > _waiting[victim].EnqueuedMs)))
                {
                    victim = i;
                }
            }

            if (victim < 0)
            {
                return item;
            }

            shed = _waiting[victim].Item;
            _depth[(int)shed.Priority]--;
            _waiting.RemoveAt(victim);
        }

        // routing.max-queue-wait counts from the request's arrival, across every device it tries.
        _waiting.Add(new QueuedItem(item, nowMs, item.ArrivalMs + _options.MaxQueueWaitMs[p]));
        _depth[p]++;
        return shed;
    }

    /// <summary>Takes out every waiting request whose max-queue-wait ran out by <paramref name="nowMs"/>.</summary>
    public void Expire(double nowMs, List<WorkItem> into)
    {
        for (int i = _waiting.Count - 1; i >= 0; i--)
        {
            if (_waiting[i].DeadlineMs <= nowMs)
            {
                into.Add(_waiting[i].Item);
                _depth[(int)_waiting[i].Item.Priority]--;
                _waiting.RemoveAt(i);
            }
        }
    }

    /// <summary>Ends the request in flight and starts the next one: highest aged priority, then oldest.</summary>
    public void Complete(double nowMs)
    {
        AdvanceThermal(nowMs);
        if (Current is { } done)
        {
            AddEnergy(nowMs);
            Served++;
            _results.Served(done, Profile.Id, _currentStartMs, _currentFirstTokenMs);
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
            if (a > b || (a == b && _waiting[i].EnqueuedMs < _waiting[best].EnqueuedMs))
            {
                best = i;
            }
        }

        WorkItem next = _waiting[best].Item;
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
    private int AgedPriority(QueuedItem waiting, double nowMs) =>
        waiting.Item.Priority == Priority.Critical
            ? (int)Priority.Critical
            : Math.Min((int)Priority.High, (int)waiting.Item.Priority + (int)((nowMs - waiting.EnqueuedMs) / _options.AgingIntervalMs));

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

    /// <summary>The energy of the request in flight from its start to now, counted to the device and to the phase it started in.</summary>
    private void AddEnergy(double nowMs)
    {
        double wh = Profile.Watts * (nowMs - _currentStartMs) / 3_600_000.0;
        EnergyWh += wh;
        _results.AddEnergy(_currentStartMs, wh);
    }

    /// <summary>
    /// Moves the temperature to <paramref name="nowMs"/>: towards ambient + rise while busy, towards
    /// ambient while idle (the load did not change since the last call), and counts the time at or
    /// above the hot threshold exactly (the curve is monotonic within one interval).
    /// </summary>
    private void AdvanceThermal(double nowMs)
    {
        double dt = nowMs - _thermalAtMs;
        if (dt <= 0)
        {
            return;
        }

        double target = DeviceProfile.AmbientC + (Current is null ? 0 : Profile.TemperatureRiseC);
        double start = _temperatureC;
        double end = target + ((start - target) * Math.Exp(-dt / DeviceProfile.ThermalTimeConstantMs));
        double hot = DeviceProfile.HotC;
        double aboveMs = (start >= hot, end >= hot) switch
        {
            (true, true) => dt,
            (false, false) => 0,
            // Crossing at t* where target + (start - target) e^(-t*/tau) = hot.
            (false, true) => dt - CrossingMs(start, target, hot),
            (true, false) => CrossingMs(start, target, hot),
        };
        SecondsAboveHot += aboveMs / 1000;
        _temperatureC = end;
        _thermalAtMs = nowMs;
    }

    private static double CrossingMs(double start, double target, double hot) =>
        -DeviceProfile.ThermalTimeConstantMs * Math.Log((hot - target) / (start - target));

    private sealed record QueuedItem(WorkItem Item, double EnqueuedMs, double DeadlineMs);
}

/// <summary>Queue bounds, aging and max-queue-wait of the simulated backends, as the router's defaults set them.</summary>
internal sealed record SimOptions
{
    private static readonly RoutingConfig Routing = new();

    public ImmutableArray<int> QueueLimits { get; init; } = ImmutableArray.Create(4, 8, 8, 8);
    public int TotalQueueLimit { get; init; } = 12;
    public double AgingIntervalMs { get; init; } = Routing.AgingInterval.TotalMilliseconds;

    /// <summary>routing.max-queue-wait per priority: a queued request leaves for the next device after this long.</summary>
    public ImmutableArray<double> MaxQueueWaitMs { get; init; } =
    [
        .. new[] { Priority.BestEffort, Priority.Normal, Priority.High, Priority.Critical }.Select(p => Routing.QueueWaitFor(p).TotalMilliseconds),
    ];

    /// <summary>routing.max-attempts: devices a request may try, the first included.</summary>
    public int MaxAttempts { get; init; } = Routing.MaxAttempts;

    /// <summary>A critical request preempts a request in flight below this priority; null: no preemption.</summary>
    public Priority? CriticalPreemptsBelow { get; init; }
}
