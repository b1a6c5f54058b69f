using System.Collections.Immutable;
using Akka.Actor;
using Router.Actors.Config;
using Router.Actors.Routing;

namespace Router.Actors.Backends;

/// <summary>
/// Owns one backend: its health, its concurrency slots, the priority queue of requests waiting for
/// a slot, its live metrics and the models it holds. The call itself runs outside the actor; the
/// request side reports first token and release through its <see cref="SlotTicket"/>.
/// While the backend is healthy and nobody waits, requests take free slots through its
/// <see cref="SlotGate"/> without a round trip, and the actor hears of them after the fact.
/// Publishes a <see cref="BackendSnapshot"/> on the event stream after changes, at most one per
/// burst of messages: under load, grants and releases would otherwise each fan out to every
/// subscriber.
/// Runs with the <see cref="BackendMailbox"/> (control messages, then tickets by priority) under a
/// back-off supervisor (<see cref="BackendsSupervisor"/>); a new incarnation forgets the old one's
/// slots and queue and learns its health from a fresh probe.
/// </summary>
public sealed partial class BackendActor : ReceiveActor, IWithTimers
{
    private readonly BackendConfig _config;
    private readonly IBackendClient _client;
    private readonly TimeProvider _time;
    private readonly TimeSpan _agingInterval;
    private readonly Priority? _preemptBelow;

    // Waiting requests, one FIFO per base priority. Aging is applied when choosing, not by moving.
    private readonly Queue<SlotTicket>[] _waiting = [new(), new(), new(), new()];
    private readonly HashSet<SlotTicket> _inFlight = [];

    private readonly SlotGate _gate;
    private readonly EjectionGuard _ejectionGuard;
    private BackendSnapshot _snapshot;
    private long _version;
    private bool _publishPending;

    /// <param name="slots">Where the request path finds this incarnation's gate and ref.</param>
    /// <param name="time">The request path's clock: tickets carry its timestamps, and aging compares against them.</param>
    /// <param name="ejections">Shared by the router's backends: refuses an ejection past the panic threshold.</param>
    public BackendActor(BackendConfig config, IBackendClient client, RoutingConfig routing, BackendSlots slots, TimeProvider time, EjectionGuard? ejections = null)
    {
        _ejectionGuard = ejections ?? EjectionGuard.Unlimited;
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(routing);
        ArgumentNullException.ThrowIfNull(slots);
        ArgumentNullException.ThrowIfNull(time);
        _config = config;
        _client = client;
        _time = time;
        _agingInterval = routing.AgingInterval;
        _preemptBelow = routing.CriticalPreemptsBelow;
        _snapshot = InitialSnapshot(config);
        _gate = new SlotGate(_snapshot.MaxConcurrent);
        var incarnation = slots.Start(_gate, Self);
        // Versions keep rising across incarnations, so the routing table never takes a new
        // incarnation's first snapshots for stale ones.
        _version = incarnation << 32;

        Receive<SlotTicket>(OnTicket);
        Receive<TicketCancelled>(OnTicketCancelled);
        Receive<SlotReleased>(OnSlotReleased);
        Receive<PublishSnapshot>(_ => Publish());
        Receive<CountGateAdmissions>(_ =>
        {
            CountAdmissions();
            Changed();
        });
        Receive<FirstTokenArrived>(OnFirstToken);
        Receive<CallFailureConfirmed>(_ =>
        {
            ConfirmFailure();
            Changed();
        });
        Receive<GetBackendSnapshot>(_ => Sender.Tell(Refresh()));
        Receive<ProbeNow>(_ => StartProbe());
        Receive<ProbeCompleted>(OnProbeCompleted);
        Receive<RefreshModels>(_ => StartModelRefresh());
        Receive<ModelsRefreshed>(OnModelsRefreshed);
        Receive<EjectionExpired>(_ => OnEjectionExpired());
        Receive<EjectionDecayed>(_ => OnEjectionDecayed());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private int MaxConcurrent => _snapshot.MaxConcurrent;

    /// <summary>What is known of a backend before its first probe: its configuration.</summary>
    public static BackendSnapshot InitialSnapshot(BackendConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new BackendSnapshot
        {
            Id = config.Id,
            Name = config.Name,
            Type = config.Type,
            Hardware = config.Hardware,
            PowerWatts = config.PowerWatts,
            AvgLatencyMs = config.AvgLatencyMs,
            ConfiguredPriority = config.Priority,
            MaxConcurrent = Math.Max(1, config.MaxConcurrent),
            QueueLimitByPriority = config.QueueLimits,
        };
    }

    protected override void PreStart()
    {
        SyncGate();
        Publish();
        StartProbe();
        StartModelRefresh();
    }

    protected override void PostStop()
    {
        _gate.SetOpen(false);
        var stopping = CoordinatedShutdown.Get(Context.System).ShutdownReason is not null;
        // Nobody will serve the waiting requests now: let them fall back elsewhere.
        RejectAllWaiting(stopping ? "the router is shutting down" : $"backend '{_config.Id}' is restarting", TimeSpan.FromSeconds(1));
        if (!stopping)
        {
            // Until the next incarnation has probed, the backend is not routable.
            SetHealth(BackendHealth.Unhealthy, "backend actor stopped; a new one will probe the backend");
            Publish();
        }
    }

    private void OnTicket(SlotTicket ticket)
    {
        CountAdmissions();
        if (!ticket.IsWaiting)
        {
            return; // The request gave up before we saw it.
        }

        if (_snapshot.Health is BackendHealth.Unhealthy or BackendHealth.Ejected)
        {
            ticket.Reject($"backend '{_config.Id}' is {HealthName(_snapshot.Health)}", RetryAfterEstimate(), queueFull: false);
            return;
        }

        if (TotalWaiting() == 0 && HasFreeSlot() && _gate.TryTake())
        {
            if (GrantTakenSlot(ticket))
            {
                Changed();
            }

            return;
        }

        if (ticket.Priority == Priority.Critical && TryPreemptFor(ticket))
        {
            Changed();
            return;
        }

        var lane = (int)ticket.Priority;
        var limit = _config.QueueLimits.IsDefaultOrEmpty ? int.MaxValue : _config.QueueLimits[lane];
        if (_waiting[lane].Count >= limit)
        {
            ticket.Reject($"queue full at priority {PriorityName(ticket.Priority)} on backend '{_config.Id}' ({limit} waiting)", RetryAfterEstimate(), queueFull: true);
            return;
        }

        // Aging needs no timer: the order of service is computed from waiting times when a slot frees.
        _waiting[lane].Enqueue(ticket);
        Changed();
    }

    private void OnTicketCancelled(TicketCancelled message)
    {
        // Queue<T> has no remove: rebuild the lane without the ticket (lanes are short).
        var lane = _waiting[(int)message.Ticket.Priority];
        var count = lane.Count;
        for (var i = 0; i < count; i++)
        {
            var ticket = lane.Dequeue();
            if (!ReferenceEquals(ticket, message.Ticket))
            {
                lane.Enqueue(ticket);
            }
        }

        if (lane.Count != count)
        {
            Changed();
        }
    }

    /// <summary>
    /// Counts the requests admitted through the gate since the actor last ran. Called before
    /// anything that reads the slots in flight: a release, a ticket (preemption needs the running
    /// requests), a snapshot. A ticket is queued before its request starts, so it is always
    /// counted before its own release arrives.
    /// </summary>
    private void CountAdmissions()
    {
        while (_gate.TryDrainTaken(out var ticket))
        {
            _inFlight.Add(ticket);
        }
    }

    private void OnSlotReleased(SlotReleased message)
    {
        CountAdmissions();
        if (!_inFlight.Remove(message.Ticket))
        {
            // Granted by an earlier incarnation of this actor (before a restart): that slot was
            // already forgotten with the old state, so there is nothing to free. The same for a
            // preempted request: its slot went to the critical one.
            return;
        }

        _gate.Return();
        RecordOutcome(message.Report);
        if (message.Report.Failure == BackendErrorKind.Timeout && _snapshot.Health is BackendHealth.Healthy or BackendHealth.Unknown)
        {
            HoldQueueForProbe();
        }

        GrantWaiting();
        Changed();
    }

    private void OnFirstToken(FirstTokenArrived message)
    {
        if (message.Ticket.Model is { } model)
        {
            // Not published on its own: the release that follows publishes the updated metrics,
            // and one snapshot fewer per request is one fan-out fewer on the hot path.
            RecordTimeToFirstToken(model, message.TimeToFirstTokenMs);
        }
    }

    /// <summary>
    /// Under overload best effort is shed first: a critical request that finds every slot busy
    /// takes the slot of the lowest-priority request running below the configured threshold (the
    /// most recently started of those, which has the least work to lose).
    /// </summary>
    private bool TryPreemptFor(SlotTicket critical)
    {
        if (_preemptBelow is not { } below || _waiting[(int)Priority.Critical].Count > 0)
        {
            return false;
        }

        SlotTicket? victim = null;
        foreach (var running in _inFlight)
        {
            if (running.Priority < below && (victim is null || running.Priority < victim.Priority
                || (running.Priority == victim.Priority && running.EnqueuedAt > victim.EnqueuedAt)))
            {
                victim = running;
            }
        }

        if (victim is null || !critical.IsWaiting)
        {
            return false;
        }

        // The victim learns it was shed before the critical request learns it has the slot: whoever
        // sees the grant sees the preemption too.
        _inFlight.Remove(victim);
        victim.Preempt();
        _snapshot = _snapshot with { PreemptedTotal = _snapshot.PreemptedTotal + 1 };
        if (critical.TryGrant())
        {
            _inFlight.Add(critical);
        }
        else
        {
            // The critical request gave up in between: the slot it would have had is free again.
            _gate.Return();
            GrantWaiting();
        }

        return true;
    }

    private bool HasFreeSlot() =>
        _gate.Free > 0
        // A call here passed its first-byte timeout: the device may hang, so nothing more is sent
        // to it until the probe that went out at once has answered.
        && !_heldForProbe
        // Half-open: one trial request at a time decides whether the backend is back.
        && (_snapshot.Health != BackendHealth.Degraded || _inFlight.Count == 0);

    /// <summary>Hands free slots to the highest-priority waiting requests, counting age.</summary>
    private void GrantWaiting()
    {
        if (_snapshot.Health is BackendHealth.Unhealthy or BackendHealth.Ejected)
        {
            RejectAllWaiting($"backend '{_config.Id}' is {HealthName(_snapshot.Health)}", RetryAfterEstimate());
            return;
        }

        var now = _time.GetTimestamp();
        while (HasFreeSlot())
        {
            var lane = PickLane(now);
            if (lane < 0 || !_gate.TryTake())
            {
                return;
            }

            // A request that gave up a moment ago hands the slot on to the next in line.
            GrantTakenSlot(_waiting[lane].Dequeue());
        }
    }

    /// <summary>Gives a slot already taken from the gate to <paramref name="ticket"/>, or returns it if the request gave up.</summary>
    private bool GrantTakenSlot(SlotTicket ticket)
    {
        if (ticket.TryGrant())
        {
            _inFlight.Add(ticket);
            return true;
        }

        _gate.Return();
        return false;
    }

    /// <summary>
    /// The lane whose head should be served next: highest effective priority, where a request gains
    /// one level per aging interval waited. The level is not capped, so a best-effort request that
    /// has waited long enough outranks even fresh critical work: nothing starves forever. Ties go to
    /// the request that has waited longer.
    /// </summary>
    private int PickLane(long now)
    {
        var best = -1;
        var bestEffective = long.MinValue;
        var bestEnqueued = long.MaxValue;
        for (var lane = _waiting.Length - 1; lane >= 0; lane--)
        {
            var queue = _waiting[lane];
            while (queue.Count > 0 && !queue.Peek().IsWaiting)
            {
                queue.Dequeue(); // Cancelled while waiting; its TicketCancelled is on its way.
            }

            if (queue.Count == 0)
            {
                continue;
            }

            var head = queue.Peek();
            var effective = lane + AgingLevels(head, now);
            if (effective > bestEffective || (effective == bestEffective && head.EnqueuedAt < bestEnqueued))
            {
                best = lane;
                bestEffective = effective;
                bestEnqueued = head.EnqueuedAt;
            }
        }

        return best;
    }

    private long AgingLevels(SlotTicket ticket, long now)
    {
        if (_agingInterval <= TimeSpan.Zero)
        {
            return 0;
        }

        return _time.GetElapsedTime(ticket.EnqueuedAt, now).Ticks / _agingInterval.Ticks;
    }

    private void RejectAllWaiting(string reason, TimeSpan retryAfter)
    {
        foreach (var lane in _waiting)
        {
            while (lane.Count > 0)
            {
                lane.Dequeue().Reject(reason, retryAfter, queueFull: false);
            }
        }
    }

    private int TotalWaiting()
    {
        var total = 0;
        foreach (var lane in _waiting)
        {
            total += lane.Count;
        }

        return total;
    }

    private TimeSpan RetryAfterEstimate()
    {
        // One expected service time per waiting request per slot, at least a second.
        var serviceMs = Math.Max(_config.AvgLatencyMs, 100) * 4;
        var ms = serviceMs * (TotalWaiting() + 1) / MaxConcurrent;
        return TimeSpan.FromMilliseconds(Math.Clamp(ms, 1000, 60_000));
    }

    /// <summary>
    /// After any change of slots, queue or health: the gate follows at once; the snapshot is
    /// published once the messages already queued have been handled.
    /// </summary>
    private void Changed()
    {
        SyncGate();
        if (!_publishPending)
        {
            _publishPending = true;
            Self.Tell(PublishSnapshot.Instance);
        }
    }

    private void SyncGate() =>
        _gate.SetOpen(_snapshot.Health is BackendHealth.Healthy or BackendHealth.Unknown && TotalWaiting() == 0 && !_heldForProbe);

    private void Publish()
    {
        _publishPending = false;
        Context.System.EventStream.Publish(Refresh());
    }

    private BackendSnapshot Refresh()
    {
        CountAdmissions();
        var depth = ImmutableArray.Create(_waiting[0].Count, _waiting[1].Count, _waiting[2].Count, _waiting[3].Count);
        Span<int> running = stackalloc int[4];
        foreach (var ticket in _inFlight)
        {
            running[(int)ticket.Priority]++;
        }

        _snapshot = _snapshot with
        {
            InFlight = _inFlight.Count,
            InFlightByPriority = ImmutableArray.Create(running[0], running[1], running[2], running[3]),
            QueueDepthByPriority = depth,
            Version = ++_version,
        };
        return _snapshot;
    }

    internal static string PriorityName(Priority priority) => priority switch
    {
        Priority.BestEffort => "best-effort",
        Priority.Normal => "normal",
        Priority.High => "high",
        _ => "critical",
    };

    internal static string HealthName(BackendHealth health) => health switch
    {
        BackendHealth.Unknown => "unknown",
        BackendHealth.Healthy => "healthy",
        BackendHealth.Degraded => "degraded",
        BackendHealth.Unhealthy => "unhealthy",
        _ => "ejected",
    };
}
