using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Router.Actors.Routing;
using Router.Actors.State;
using Router.DBus.Contract;
using Tmds.DBus.Protocol;

namespace Router.DBus.Export;

/// <summary>
/// /ie/fio/OllamaProxy/Thermal: the hottest reading, throttling, each device's temperature and
/// which are hot; ThermalWarning when a device crosses its hot threshold or its limit, and
/// ThrottlingStarted/Stopped.
/// </summary>
internal sealed class ThermalObject : ExportedObject
{
    /// <summary>The device named by throttling events: the CPU package's throttle counters.</summary>
    public const string CpuDevice = "cpu";

    private readonly SystemStateWatch _state;

    public ThermalObject(BusLink bus, SystemStateWatch state, ILogger logger)
        : base(BusContract.Thermal, bus, logger) => _state = state;

    public override DBusValue GetProperty(string name)
    {
        var state = _state.Current;
        return name switch
        {
            "MaxTemperature" => DBusValue.Double(state.MaxTemperatureC ?? double.NaN),
            "Throttling" => DBusValue.Bool(state.Throttling),
            "Temperatures" => DBusValue.DoublesByName(Temperatures(state)),
            "HotDevices" => DBusValue.Strings(HotDevices(state)),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
        };
    }

    public void OnStateChanged() => AnnounceChanges();

    public void OnThermalEvent(ThermalEvent e)
    {
        switch (e.Kind)
        {
            case "hot" or "over-limit":
            {
                var (device, celsius) = (e.BackendId ?? CpuDevice, e.TemperatureC ?? double.NaN);
                EmitSignal("ThermalWarning", "sd", (ref MessageWriter writer) =>
                {
                    writer.WriteString(device);
                    writer.WriteDouble(celsius);
                });
                break;
            }

            case "throttling-started" or "throttling-stopped":
            {
                var device = e.BackendId ?? CpuDevice;
                EmitSignal(e.Kind == "throttling-started" ? "ThrottlingStarted" : "ThrottlingStopped", "s",
                    (ref MessageWriter writer) => writer.WriteString(device));
                break;
            }
        }
    }

    protected override ValueTask<DBusError?> CallAsync(MethodContext context, string member, CancellationToken cancellationToken) =>
        ValueTask.FromResult<DBusError?>(DBusErrors.UnknownMethod(Contract.Name, member));

    private static ImmutableSortedDictionary<string, double> Temperatures(SystemState state)
    {
        var result = ImmutableSortedDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        foreach (var (id, thermal) in state.ThermalByBackend)
        {
            if (thermal.TemperatureC is { } celsius)
            {
                result[id] = celsius;
            }
        }

        return result.ToImmutable();
    }

    private static ImmutableArray<string> HotDevices(SystemState state) =>
        [.. state.ThermalByBackend.Where(static t => t.Value.TemperatureC is { } c && c > t.Value.HotC).Select(static t => t.Key).Order(StringComparer.Ordinal)];
}
