using System.Collections.Immutable;
using System.Threading.Channels;
using Grpc.Core;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Gateway.Grpc.Contracts.Compute;
using ProtoMode = Router.Gateway.Grpc.Contracts.Compute.EfficiencyMode;
using RouterMode = Router.Actors.Routing.EfficiencyMode;

namespace Router.Gateway.Grpc.Services;

/// <summary>
/// compute.v1.EfficiencyService. WatchState reads the state whenever <see cref="Wake"/> says it
/// changed (the host calls it for every system state the actors publish, and SetMode here does
/// too) and, as a safety net, on a timer (<see cref="GrpcServerOptions.SystemStatePollInterval"/>);
/// it sends a message whenever the state differs from the last one sent.
/// </summary>
internal sealed class EfficiencyGrpcService(IRouterAdmin admin, TimeProvider timeProvider, GrpcServerOptions options)
    : Contracts.Compute.EfficiencyService.EfficiencyServiceBase
{
    private readonly Lock _lock = new();
    private ImmutableList<Channel<bool>> _watchers = ImmutableList<Channel<bool>>.Empty;

    public override async Task<EfficiencyState> GetMode(GetModeRequest request, ServerCallContext context) =>
        ToEfficiency(await admin.GetSystemStateAsync(context.CancellationToken).ConfigureAwait(false));

    public override async Task<EfficiencyState> SetMode(SetModeRequest request, ServerCallContext context)
    {
        var mode = FromProto(request.Mode)
            ?? throw GrpcErrors.InvalidArgument($"mode must be one of PERFORMANCE, BALANCED, EFFICIENCY, QUIET, ULTRA_EFFICIENCY or AUTO, not {request.Mode}.");
        var state = await admin.SetModeAsync(mode, context.CancellationToken).ConfigureAwait(false);
        Wake();
        return ToEfficiency(state);
    }

    /// <summary>Tells every WatchState stream that the system state may have changed.</summary>
    public void Wake()
    {
        foreach (var watcher in _watchers)
        {
            watcher.Writer.TryWrite(true);
        }
    }

    public override async Task WatchState(WatchStateRequest request, IServerStreamWriter<SystemStateUpdate> responseStream, ServerCallContext context)
    {
        var token = context.CancellationToken;
        var wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_lock)
        {
            _watchers = _watchers.Add(wake);
        }

        try
        {
            using var timer = timeProvider.CreateTimer(static state => ((Channel<bool>)state!).Writer.TryWrite(true), wake,
                options.SystemStatePollInterval, options.SystemStatePollInterval);
            SystemStateUpdate? last = null;
            while (true)
            {
                var update = ToUpdate(await admin.GetSystemStateAsync(token).ConfigureAwait(false));
                if (last is null || !SameState(last, update))
                {
                    update.TimestampUnixMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
                    await responseStream.WriteAsync(update, token).ConfigureAwait(false);
                    last = update;
                }

                await wake.Reader.ReadAsync(token).ConfigureAwait(false);
            }
        }
        finally
        {
            lock (_lock)
            {
                _watchers = _watchers.Remove(wake);
            }
        }
    }

    private static bool SameState(SystemStateUpdate a, SystemStateUpdate b)
    {
        var timestamp = a.TimestampUnixMs;
        a.TimestampUnixMs = b.TimestampUnixMs;
        var same = a.Equals(b);
        a.TimestampUnixMs = timestamp;
        return same;
    }

    internal static SystemStateUpdate ToUpdate(SystemState state)
    {
        var update = new SystemStateUpdate
        {
            Efficiency = ToEfficiency(state),
            OnAcPower = state.OnAcPower,
            Throttling = state.Throttling,
        };
        if (state.BatteryPercent is { } battery)
        {
            update.BatteryPercent = battery;
        }

        if (state.MaxTemperatureC is { } temperature)
        {
            update.MaxTemperatureC = temperature;
        }

        foreach (var (backend, thermal) in state.ThermalByBackend)
        {
            if (thermal.TemperatureC is { } celsius)
            {
                update.BackendTemperatureC[backend] = celsius;
            }
        }

        return update;
    }

    internal static EfficiencyState ToEfficiency(SystemState state) => new()
    {
        Mode = ToProto(state.Mode),
        EffectiveMode = ToProto(state.EffectiveMode),
        Reason = state.ModeReason,
    };

    internal static ProtoMode ToProto(RouterMode mode) => mode switch
    {
        RouterMode.Performance => ProtoMode.Performance,
        RouterMode.Balanced => ProtoMode.Balanced,
        RouterMode.Efficiency => ProtoMode.Efficiency,
        RouterMode.Quiet => ProtoMode.Quiet,
        RouterMode.UltraEfficiency => ProtoMode.UltraEfficiency,
        RouterMode.Auto => ProtoMode.Auto,
        _ => ProtoMode.Unspecified,
    };

    internal static RouterMode? FromProto(ProtoMode mode) => mode switch
    {
        ProtoMode.Performance => RouterMode.Performance,
        ProtoMode.Balanced => RouterMode.Balanced,
        ProtoMode.Efficiency => RouterMode.Efficiency,
        ProtoMode.Quiet => RouterMode.Quiet,
        ProtoMode.UltraEfficiency => RouterMode.UltraEfficiency,
        ProtoMode.Auto => RouterMode.Auto,
        _ => null,
    };
}
