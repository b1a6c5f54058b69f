using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.DBus.Contract;
using Tmds.DBus.Protocol;

namespace Router.DBus.Export;

/// <summary>
/// /ie/fio/OllamaProxy/Efficiency: the user's mode (read-write), the mode in effect and why, the
/// modes, and ModeChanged for both the chosen mode and Auto's own changes.
/// </summary>
internal sealed class EfficiencyObject : ExportedObject
{
    private static readonly DBusValue ModeIds = DBusValue.Strings([.. WireNames.ModeNames]);

    private readonly IRouterAdmin _admin;
    private readonly SystemStateWatch _state;
    private readonly double _ultraEfficiencyMaxWatts;

    public EfficiencyObject(BusLink bus, IRouterAdmin admin, SystemStateWatch state, double ultraEfficiencyMaxWatts, ILogger logger)
        : base(BusContract.Efficiency, bus, logger)
    {
        _admin = admin;
        _state = state;
        _ultraEfficiencyMaxWatts = ultraEfficiencyMaxWatts;
    }

    public override DBusValue GetProperty(string name)
    {
        var state = _state.Current;
        return name switch
        {
            "Mode" => DBusValue.String(WireNames.ToWire(state.Mode)),
            "EffectiveMode" => DBusValue.String(WireNames.ToWire(state.EffectiveMode)),
            "Reason" => DBusValue.String(state.ModeReason),
            "Modes" => ModeIds,
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
        };
    }

    /// <summary>
    /// A new system state: PropertiesChanged for what changed, and ModeChanged for the chosen mode
    /// (old and new chosen modes) and, in Auto, for the mode in effect (old and new modes in effect).
    /// </summary>
    public void OnStateChanged(SystemState previous, SystemState current)
    {
        AnnounceChanges();
        if (previous.Mode != current.Mode)
        {
            EmitModeChanged(previous.Mode, current.Mode, current.ModeReason);
        }

        if (current.Mode == EfficiencyMode.Auto && previous.EffectiveMode != current.EffectiveMode)
        {
            EmitModeChanged(previous.EffectiveMode, current.EffectiveMode, current.ModeReason);
        }
    }

    private void EmitModeChanged(EfficiencyMode from, EfficiencyMode to, string reason)
    {
        var (old, @new) = (WireNames.ToWire(from), WireNames.ToWire(to));
        EmitSignal("ModeChanged", "sss", (ref MessageWriter writer) =>
        {
            writer.WriteString(old);
            writer.WriteString(@new);
            writer.WriteString(reason);
        });
    }

    protected override async ValueTask<DBusError?> CallAsync(MethodContext context, string member, CancellationToken cancellationToken)
    {
        switch (member)
        {
            case "SetMode":
            {
                var error = await SetModeAsync(ReadString(context), cancellationToken).ConfigureAwait(false);
                if (error is null)
                {
                    ReplyEmpty(context);
                }

                return error;
            }

            case "GetModeInfo":
            {
                var given = ReadString(context);
                if (!WireNames.TryParseMode(given, out var mode))
                {
                    return DBusErrors.UnknownMode(given);
                }

                var (description, icon) = Describe(mode);
                var cap = mode == EfficiencyMode.UltraEfficiency ? _ultraEfficiencyMaxWatts : 0;
                var id = WireNames.ToWire(mode);
                Reply(context, "a{sv}", (ref MessageWriter writer) =>
                {
                    var start = writer.WriteDictionaryStart();
                    VariantDict.Entry(ref writer, "id", id);
                    VariantDict.Entry(ref writer, "description", description);
                    VariantDict.Entry(ref writer, "icon", icon);
                    VariantDict.Entry(ref writer, "max_power_watts", cap);
                    writer.WriteDictionaryEnd(start);
                });
                return null;
            }

            default:
                return DBusErrors.UnknownMethod(Contract.Name, member);
        }
    }

    protected override ValueTask<DBusError?> SetPropertyAsync(string name, VariantValue value, CancellationToken cancellationToken) =>
        name == "Mode" ? SetModeAsync(value.GetString(), cancellationToken) : base.SetPropertyAsync(name, value, cancellationToken);

    /// <summary>
    /// Sets the mode and returns once this object's properties show it, so a caller that reads
    /// Mode right after SetMode sees its own change.
    /// </summary>
    private async ValueTask<DBusError?> SetModeAsync(string given, CancellationToken cancellationToken)
    {
        if (!WireNames.TryParseMode(given, out var mode))
        {
            return DBusErrors.UnknownMode(given);
        }

        var state = await _admin.SetModeAsync(mode, cancellationToken).ConfigureAwait(false);
        await _state.WaitForAsync(state, cancellationToken).ConfigureAwait(false);
        return null;
    }

    private static string ReadString(MethodContext context) => context.Request.GetBodyReader().ReadString();

    /// <summary>What the GNOME menu and scripts show for a mode: a sentence and a symbolic icon name.</summary>
    internal static (string Description, string Icon) Describe(EfficiencyMode mode) => mode switch
    {
        EfficiencyMode.Performance => ("Fastest expected answer; power is not considered", "power-profile-performance-symbolic"),
        EfficiencyMode.Balanced => ("Weighs latency, power and queue", "power-profile-balanced-symbolic"),
        EfficiencyMode.Efficiency => ("Least energy per request within the request's limits", "power-profile-power-saver-symbolic"),
        EfficiencyMode.Quiet => ("Keeps fans and temperatures down: avoids high-power and hot devices", "weather-clear-night-symbolic"),
        EfficiencyMode.UltraEfficiency => ("Only backends under the ultra-efficiency power cap", "battery-level-10-symbolic"),
        _ => ("Follows the machine: AC, battery, heat and the power profile", "emblem-synchronizing-symbolic"),
    };
}
