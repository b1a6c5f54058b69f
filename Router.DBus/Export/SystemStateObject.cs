using Microsoft.Extensions.Logging;
using Router.Actors.Routing;
using Router.DBus.Contract;
using Tmds.DBus.Protocol;

namespace Router.DBus.Export;

/// <summary>/ie/fio/OllamaProxy/SystemState: AC or battery, the charge, time to empty and the desktop's power profile.</summary>
internal sealed class SystemStateObject : ExportedObject
{
    private readonly SystemStateWatch _state;

    public SystemStateObject(BusLink bus, SystemStateWatch state, ILogger logger)
        : base(BusContract.SystemState, bus, logger) => _state = state;

    public override DBusValue GetProperty(string name)
    {
        var state = _state.Current;
        return name switch
        {
            "OnBattery" => DBusValue.Bool(!state.OnAcPower),
            "BatteryPercent" => DBusValue.Double(state.BatteryPercent ?? double.NaN),
            "TimeToEmpty" => DBusValue.Int64(state.TimeToEmpty is { } remaining ? (long)remaining.TotalSeconds : 0),
            "PowerProfile" => DBusValue.String(state.PowerProfile ?? ""),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
        };
    }

    public void OnStateChanged(SystemState previous, SystemState current)
    {
        AnnounceChanges();
        if (previous.OnAcPower != current.OnAcPower)
        {
            var onBattery = !current.OnAcPower;
            EmitSignal("PowerSourceChanged", "b", (ref MessageWriter writer) => writer.WriteBool(onBattery));
        }

        if (!Nullable.Equals(previous.BatteryPercent, current.BatteryPercent))
        {
            var percent = current.BatteryPercent ?? double.NaN;
            EmitSignal("BatteryLevelChanged", "d", (ref MessageWriter writer) => writer.WriteDouble(percent));
        }
    }

    protected override ValueTask<DBusError?> CallAsync(MethodContext context, string member, CancellationToken cancellationToken) =>
        ValueTask.FromResult<DBusError?>(DBusErrors.UnknownMethod(Contract.Name, member));
}
