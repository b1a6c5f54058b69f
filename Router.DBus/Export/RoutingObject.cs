using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.DBus.Contract;
using Tmds.DBus.Protocol;

namespace Router.DBus.Export;

/// <summary>
/// /ie/fio/OllamaProxy/Routing: where a request would go now (Explain), what the router has served
/// (GetStats, TotalRequests, LastBackend), and RequestRouted while a client has switched it on.
/// </summary>
/// <remarks>
/// Request counts change with every request, so their PropertiesChanged is sent at most once a
/// second (the latest values), and RequestRouted at most <c>dbus.request-routed-per-second</c>
/// times a second: a busy router must not flood the session bus.
/// </remarks>
internal sealed class RoutingObject : ExportedObject, IRequestObserver, IDisposable
{
    private static readonly TimeSpan CountsInterval = TimeSpan.FromSeconds(1);
    private static readonly Func<string, bool> IsCount = static name => name is "TotalRequests" or "LastBackend";
    private static readonly Func<string, bool> IsNotCount = static name => !IsCount(name);

    private readonly IInferenceRouter _router;
    private readonly TimeProvider _time;
    private readonly Func<double>? _energyWh;
    private readonly int _signalsPerSecond;

    private readonly Lock _lock = new();
    // Guarded by _lock.
    private ulong _requests;
    private ulong _failures;
    private double _estimatedEnergyWh;
    private string _lastBackend = "";
    private ImmutableSortedDictionary<string, ulong> _byBackend = ImmutableSortedDictionary<string, ulong>.Empty.WithComparers(StringComparer.Ordinal);
    private long _countsAnnouncedAt = long.MinValue;
    private ITimer? _countsTimer;
    private long _signalWindowStart = long.MinValue;
    private int _signalsInWindow;
    private bool _signalOn;

    /// <param name="energyWh">Energy used by all backends so far (measured where the host meters it); null sums the router's own estimates.</param>
    public RoutingObject(BusLink bus, IInferenceRouter router, TimeProvider time, bool signalOn, int signalsPerSecond, Func<double>? energyWh, ILogger logger)
        : base(BusContract.Routing, bus, logger)
    {
        _router = router;
        _time = time;
        _signalOn = signalOn;
        _signalsPerSecond = signalsPerSecond;
        _energyWh = energyWh;
    }

    public override DBusValue GetProperty(string name)
    {
        lock (_lock)
        {
            return name switch
            {
                "TotalRequests" => DBusValue.UInt64(_requests),
                "LastBackend" => DBusValue.String(_lastBackend),
                "RequestRoutedSignal" => DBusValue.Bool(_signalOn),
                _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
            };
        }
    }

    public void OnRequestFinished(RequestRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        bool signal;
        lock (_lock)
        {
            _requests++;
            if (record.Outcome is CallOutcome.BackendFailed or CallOutcome.ClientError)
            {
                _failures++;
            }

            _estimatedEnergyWh += record.Stats.EnergyWh;
            _lastBackend = record.BackendId;
            _byBackend = _byBackend.SetItem(record.BackendId, _byBackend.GetValueOrDefault(record.BackendId) + 1);
            signal = _signalOn && TakeSignalSlot();
        }

        AnnounceCountsSoon();
        if (signal)
        {
            var (id, backend, reason) = (record.RequestId ?? "", record.BackendId, record.Reason);
            EmitSignal("RequestRouted", "sss", (ref MessageWriter writer) =>
            {
                writer.WriteString(id);
                writer.WriteString(backend);
                writer.WriteString(reason);
            });
        }
    }

    public void OnRequestRejected(RouteFailureKind kind, Priority priority)
    {
        lock (_lock)
        {
            _requests++;
            _failures++;
        }

        AnnounceCountsSoon();
    }

    /// <summary>One signal slot of the current one-second window, if any is left. Caller holds _lock.</summary>
    private bool TakeSignalSlot()
    {
        var now = _time.GetTimestamp();
        if (_signalWindowStart == long.MinValue || _time.GetElapsedTime(_signalWindowStart, now) >= TimeSpan.FromSeconds(1))
        {
            _signalWindowStart = now;
            _signalsInWindow = 0;
        }

        if (_signalsInWindow >= _signalsPerSecond)
        {
            return false;
        }

        _signalsInWindow++;
        return true;
    }

    /// <summary>Announces the counts now if a second has passed since the last time, else once that second is up.</summary>
    private void AnnounceCountsSoon()
    {
        TimeSpan wait;
        lock (_lock)
        {
            if (_countsTimer is not null)
            {
                return;
            }

            var now = _time.GetTimestamp();
            var since = _countsAnnouncedAt == long.MinValue ? CountsInterval : _time.GetElapsedTime(_countsAnnouncedAt, now);
            if (since >= CountsInterval)
            {
                _countsAnnouncedAt = now;
                wait = TimeSpan.Zero;
            }
            else
            {
                wait = CountsInterval - since;
                _countsTimer = _time.CreateTimer(_ => OnCountsTimer(), null, wait, Timeout.InfiniteTimeSpan);
                return;
            }
        }

        AnnounceChanges(IsCount);
    }

    private void OnCountsTimer()
    {
        lock (_lock)
        {
            _countsTimer?.Dispose();
            _countsTimer = null;
            _countsAnnouncedAt = _time.GetTimestamp();
        }

        AnnounceChanges(IsCount);
    }

    protected override ValueTask<DBusError?> SetPropertyAsync(string name, VariantValue value, CancellationToken cancellationToken)
    {
        if (name != "RequestRoutedSignal")
        {
            return base.SetPropertyAsync(name, value, cancellationToken);
        }

        lock (_lock)
        {
            _signalOn = value.GetBool();
        }

        AnnounceChanges(IsNotCount);
        return ValueTask.FromResult<DBusError?>(null);
    }

    protected override async ValueTask<DBusError?> CallAsync(MethodContext context, string member, CancellationToken cancellationToken)
    {
        switch (member)
        {
            case "Explain":
                return await ExplainAsync(context, cancellationToken).ConfigureAwait(false);
            case "GetStats":
            {
                ulong requests, failures;
                double energy;
                ImmutableSortedDictionary<string, ulong> byBackend;
                lock (_lock)
                {
                    (requests, failures, energy, byBackend) = (_requests, _failures, _estimatedEnergyWh, _byBackend);
                }

                energy = _energyWh?.Invoke() ?? energy;
                Reply(context, "a{sv}", (ref MessageWriter writer) =>
                {
                    var start = writer.WriteDictionaryStart();
                    VariantDict.Entry(ref writer, "requests", requests);
                    VariantDict.Entry(ref writer, "failures", failures);
                    VariantDict.Entry(ref writer, "energy_wh", energy);
                    VariantDict.Entry(ref writer, "requests_by_backend", DBusValue.CountsByName(byBackend));
                    writer.WriteDictionaryEnd(start);
                });
                return null;
            }

            default:
                return DBusErrors.UnknownMethod(Contract.Name, member);
        }
    }

    private async ValueTask<DBusError?> ExplainAsync(MethodContext context, CancellationToken cancellationToken)
    {
        var hints = context.Request.GetBodyReader().ReadDictionaryOfStringToVariantValue();
        var parsed = ExplainHints.Parse(hints);
        if (parsed.Error is { } invalid)
        {
            return invalid;
        }

        var result = await _router.ExplainAsync(parsed.Model, parsed.Hints, cancellationToken).ConfigureAwait(false);
        if (!result.IsOk)
        {
            return DBusErrors.NoRoute(result.Error);
        }

        var decision = result.Value;
        var alternatives = DBusValue.Strings([.. decision.Alternatives]);
        Reply(context, "a{sv}", (ref MessageWriter writer) =>
        {
            var start = writer.WriteDictionaryStart();
            VariantDict.Entry(ref writer, "backend", decision.BackendId);
            VariantDict.Entry(ref writer, "reason", decision.Reason);
            VariantDict.Entry(ref writer, "effective_mode", WireNames.ToWire(decision.EffectiveMode));
            VariantDict.Entry(ref writer, "alternatives", alternatives);
            VariantDict.Entry(ref writer, "estimated_latency_ms", Math.Round(decision.Estimate.LatencyMs, 1));
            VariantDict.Entry(ref writer, "estimated_power_w", Math.Round(decision.Estimate.PowerWatts, 2));
            VariantDict.Entry(ref writer, "estimated_energy_wh", Math.Round(decision.Estimate.EnergyWh, 6));
            writer.WriteDictionaryEnd(start);
        });
        return null;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _countsTimer?.Dispose();
            _countsTimer = null;
        }
    }
}
