using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Routing;
using Router.DBus.Contract;
using Tmds.DBus.Protocol;

namespace Router.DBus.Export;

/// <summary>
/// /ie/fio/OllamaProxy/Backends: one row per backend, one backend's details, the counts, and
/// BackendHealthChanged. Reads the snapshots the backend actors publish, and, in a fleet, the
/// other nodes' backends (their ids <c>node/backend</c>, their node in GetBackend's <c>node</c>);
/// asks no backend anything.
/// </summary>
internal sealed class BackendsObject : ExportedObject
{
    private readonly ImmutableArray<BackendConfig> _configs;
    private readonly SystemStateWatch _state;
    private readonly Lock _lock = new();
    // Replaced whole under _lock, read without it.
    private ImmutableDictionary<string, BackendSnapshot> _snapshots;
    // The fleet's other nodes' backends, replaced whole when the fleet's view changes.
    private BackendSnapshot[] _remote = [];

    public BackendsObject(BusLink bus, IEnumerable<BackendConfig> configs, IEnumerable<BackendSnapshot> initial, SystemStateWatch state, ILogger logger)
        : base(BusContract.Backends, bus, logger)
    {
        _configs = [.. configs.Where(static b => b.Enabled)];
        _state = state;
        _snapshots = initial.ToImmutableDictionary(static s => s.Id, StringComparer.Ordinal);
    }

    public override DBusValue GetProperty(string name)
    {
        var snapshots = Volatile.Read(ref _snapshots);
        return name switch
        {
            "Count" => DBusValue.UInt32((uint)(_configs.Length + Volatile.Read(ref _remote).Length)),
            "HealthyCount" => DBusValue.UInt32((uint)snapshots.Values.Concat(Volatile.Read(ref _remote)).Count(static s => s.Health is BackendHealth.Healthy or BackendHealth.Unknown)),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
        };
    }

    /// <summary>A newer snapshot of one backend (older ones, by version, are ignored).</summary>
    public void OnSnapshot(BackendSnapshot snapshot)
    {
        lock (_lock)
        {
            if (_snapshots.TryGetValue(snapshot.Id, out var known) && known.Version > snapshot.Version)
            {
                return;
            }

            Volatile.Write(ref _snapshots, _snapshots.SetItem(snapshot.Id, snapshot));
        }

        AnnounceChanges();
    }

    /// <summary>The fleet's view of the other nodes' backends changed.</summary>
    public void OnRemoteBackends(ImmutableArray<BackendSnapshot> remote)
    {
        Volatile.Write(ref _remote, remote.IsDefault ? [] : [.. remote]);
        AnnounceChanges();
    }

    public void OnHealthChanged(BackendHealthChanged change)
    {
        var (id, health, message) = (change.BackendId, HealthId(change.To), change.Reason);
        EmitSignal("BackendHealthChanged", "sss", (ref MessageWriter writer) =>
        {
            writer.WriteString(id);
            writer.WriteString(health);
            writer.WriteString(message);
        });
    }

    protected override ValueTask<DBusError?> CallAsync(MethodContext context, string member, CancellationToken cancellationToken)
    {
        var snapshots = Volatile.Read(ref _snapshots);
        switch (member)
        {
            case "ListBackends":
            {
                var rows = _configs.Select(c => Row(c, snapshots.GetValueOrDefault(c.Id)))
                    .Concat(Volatile.Read(ref _remote).Select(RemoteRow)).ToArray();
                Reply(context, "a(sssssdduu)", (ref MessageWriter writer) =>
                {
                    var start = writer.WriteArrayStart(DBusType.Struct);
                    foreach (var row in rows)
                    {
                        writer.WriteStructureStart();
                        writer.WriteString(row.Id);
                        writer.WriteString(row.Name);
                        writer.WriteString(row.Type);
                        writer.WriteString(row.Hardware);
                        writer.WriteString(row.Health);
                        writer.WriteDouble(row.PowerWatts);
                        writer.WriteDouble(row.LatencyMs);
                        writer.WriteUInt32(row.InFlight);
                        writer.WriteUInt32(row.Queued);
                    }

                    writer.WriteArrayEnd(start);
                });
                return ValueTask.FromResult<DBusError?>(null);
            }

            case "GetBackend":
            {
                var id = context.Request.GetBodyReader().ReadString();
                var config = _configs.FirstOrDefault(c => c.Id == id);
                var remote = Volatile.Read(ref _remote).FirstOrDefault(s => s.Id == id);
                if (config is null && remote is null)
                {
                    return ValueTask.FromResult<DBusError?>(DBusErrors.UnknownBackend(id, _configs.Select(static c => c.Id).Concat(Volatile.Read(ref _remote).Select(static s => s.Id))));
                }

                var snapshot = remote ?? snapshots.GetValueOrDefault(id);
                var row = config is null ? RemoteRow(remote!) : Row(config, snapshot);
                var endpoint = config?.Endpoint.ToString() ?? "";
                var maxConcurrent = (uint)Math.Max(0, snapshot?.MaxConcurrent ?? config?.MaxConcurrent ?? 0);
                var node = remote?.Node;
                var roundTrip = remote?.NetworkRoundTripMs ?? 0;
                double? temperature = remote is not null ? remote.Thermal?.TemperatureC
                    : _state.Current.ThermalByBackend.TryGetValue(id, out var thermal) ? thermal.TemperatureC : null;
                var models = DBusValue.Strings([.. (snapshot?.Models ?? []).Order(StringComparer.Ordinal)]);
                Reply(context, "a{sv}", (ref MessageWriter writer) =>
                {
                    var start = writer.WriteDictionaryStart();
                    VariantDict.Entry(ref writer, "id", row.Id);
                    VariantDict.Entry(ref writer, "name", row.Name);
                    VariantDict.Entry(ref writer, "type", row.Type);
                    VariantDict.Entry(ref writer, "hardware", row.Hardware);
                    VariantDict.Entry(ref writer, "health", row.Health);
                    VariantDict.Entry(ref writer, "power_watts", row.PowerWatts);
                    VariantDict.Entry(ref writer, "latency_ms", row.LatencyMs);
                    VariantDict.Entry(ref writer, "in_flight", row.InFlight);
                    VariantDict.Entry(ref writer, "queued", row.Queued);
                    VariantDict.Entry(ref writer, "endpoint", endpoint);
                    VariantDict.Entry(ref writer, "status_message", snapshot?.StatusMessage ?? "");
                    VariantDict.Entry(ref writer, "models", models);
                    VariantDict.Entry(ref writer, "error_rate", snapshot?.ErrorRate ?? 0);
                    VariantDict.Entry(ref writer, "requests_total", (ulong)Math.Max(0, snapshot?.RequestsTotal ?? 0));
                    VariantDict.Entry(ref writer, "failures_total", (ulong)Math.Max(0, snapshot?.FailuresTotal ?? 0));
                    VariantDict.Entry(ref writer, "max_concurrent", maxConcurrent);
                    if (temperature is { } celsius)
                    {
                        VariantDict.Entry(ref writer, "temperature_c", celsius);
                    }

                    if (node is not null)
                    {
                        VariantDict.Entry(ref writer, "node", node);
                        VariantDict.Entry(ref writer, "network_round_trip_ms", roundTrip);
                    }

                    writer.WriteDictionaryEnd(start);
                });
                return ValueTask.FromResult<DBusError?>(null);
            }

            default:
                return ValueTask.FromResult<DBusError?>(DBusErrors.UnknownMethod(Contract.Name, member));
        }
    }

    private readonly record struct BackendRow(string Id, string Name, string Type, string Hardware, string Health,
        double PowerWatts, double LatencyMs, uint InFlight, uint Queued);

    private static BackendRow Row(BackendConfig config, BackendSnapshot? snapshot)
    {
        if (snapshot is null)
        {
            return new BackendRow(config.Id, config.Name, config.Type, config.Hardware, HealthId(BackendHealth.Unknown), config.PowerWatts, config.AvgLatencyMs, 0, 0);
        }

        var queued = 0;
        foreach (var depth in snapshot.QueueDepthByPriority.IsDefault ? [] : snapshot.QueueDepthByPriority)
        {
            queued += depth;
        }

        return new BackendRow(snapshot.Id, snapshot.Name, snapshot.Type, snapshot.Hardware, HealthId(snapshot.Health),
            snapshot.PowerWatts, LiveLatencyMs(snapshot), (uint)Math.Max(0, snapshot.InFlight), (uint)queued);
    }

    private static BackendRow RemoteRow(BackendSnapshot snapshot)
    {
        var queued = 0;
        foreach (var depth in snapshot.QueueDepthByPriority.IsDefault ? [] : snapshot.QueueDepthByPriority)
        {
            queued += depth;
        }

        return new BackendRow(snapshot.Id, snapshot.Name, snapshot.Type, snapshot.Hardware, HealthId(snapshot.Health),
            snapshot.PowerWatts, LiveLatencyMs(snapshot) + Math.Max(0, snapshot.NetworkRoundTripMs), (uint)Math.Max(0, snapshot.InFlight), (uint)queued);
    }

    /// <summary>The measured time to first token, averaged over the models by samples; else the configured latency.</summary>
    internal static double LiveLatencyMs(BackendSnapshot snapshot)
    {
        double weighted = 0;
        var samples = 0;
        foreach (var metrics in snapshot.MetricsByModel.Values)
        {
            if (metrics.Samples > 0 && metrics.TimeToFirstTokenMs > 0)
            {
                weighted += metrics.TimeToFirstTokenMs * metrics.Samples;
                samples += metrics.Samples;
            }
        }

        return samples > 0 ? Math.Round(weighted / samples, 1) : snapshot.AvgLatencyMs;
    }

    /// <summary>The contract's health ids: unknown, healthy, degraded, unhealthy, ejected.</summary>
    internal static string HealthId(BackendHealth health) => health switch
    {
        BackendHealth.Healthy => "healthy",
        BackendHealth.Degraded => "degraded",
        BackendHealth.Unhealthy => "unhealthy",
        BackendHealth.Ejected => "ejected",
        _ => "unknown",
    };
}
