using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Telemetry.Sensors;

namespace Router.Gateway.Hosting;

/// <summary>Where the daemon's power and thermal actors read the machine from.</summary>
internal static class LinuxSensors
{
    /// <summary>
    /// The real machine under <c>telemetry.sysfs-root</c> (and nvidia-smi when enabled), sampled at
    /// <c>telemetry.sample-interval</c>, for whichever source the options do not already bring (the
    /// simulated machine in <c>--simulate</c> mode, or a test's). Its samples feed the telemetry's
    /// energy meter and gauges.
    /// </summary>
    /// <returns>The source, or null when the options already had both.</returns>
    public static LinuxMachineSource? UseUnlessSet(RouterConfig config, ref RouterRuntimeOptions runtime, RouterTelemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(telemetry);
        if (runtime.PowerSource is not null && runtime.ThermalSource is not null)
        {
            return null;
        }

        var source = new LinuxMachineSource(config.Telemetry, config.Backends, runtime.TimeProvider, telemetry.Energy, telemetry.State);
        runtime = runtime with
        {
            PowerSource = runtime.PowerSource ?? source,
            ThermalSource = runtime.ThermalSource ?? source,
        };
        return source;
    }
}
