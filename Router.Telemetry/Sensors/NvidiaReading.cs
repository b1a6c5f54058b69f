using System.Collections.Immutable;

namespace Router.Telemetry.Sensors;

/// <summary>One NVIDIA GPU as <c>nvidia-smi</c> reports it; a field it reports as <c>[N/A]</c> is null.</summary>
/// <param name="Index">Line number in nvidia-smi's output, which follows its GPU index.</param>
/// <param name="FanPercent">Fan speed as a share of its maximum (nvidia-smi does not report RPM).</param>
public sealed record NvidiaGpuReading(int Index, double? TemperatureC, double? PowerWatts, double? UtilizationPercent, double? FanPercent);

/// <summary>All NVIDIA GPUs at one instant, or why there are none.</summary>
/// <param name="Absent">nvidia-smi is not installed (or disabled): nothing to say, nothing to log.</param>
public sealed record NvidiaReading(DateTimeOffset Timestamp, ImmutableArray<NvidiaGpuReading> Gpus, string? UnavailableReason = null, bool Absent = false)
{
    public bool IsAvailable => UnavailableReason is null;

    /// <summary>Sum of the GPUs' power draw, or null when none reports it.</summary>
    public double? PowerWatts
    {
        get
        {
            double? sum = null;
            foreach (var gpu in Gpus)
            {
                if (gpu.PowerWatts is { } w)
                {
                    sum = (sum ?? 0) + w;
                }
            }

            return sum;
        }
    }

    /// <summary>The hottest GPU, or null.</summary>
    public double? MaxTemperatureC
    {
        get
        {
            double? max = null;
            foreach (var gpu in Gpus)
            {
                if (gpu.TemperatureC is { } t)
                {
                    max = max is { } m ? Math.Max(m, t) : t;
                }
            }

            return max;
        }
    }
}
