using Microsoft.Extensions.Logging;

namespace Router.Telemetry.Sensors;

public sealed partial class LinuxMachineSource
{
    /// <summary>Event ids 3000–3099: the machine's sensors.</summary>
    private static partial class Log
    {
        [LoggerMessage(EventId = 3000, Level = LogLevel.Information,
            Message = "Reading the machine under {Root}: {Temperatures} temperatures, {Fans} fans, battery {Battery}, on AC {OnAc}, RAPL domains {Rapl}, NVIDIA GPUs {Nvidia}")]
        public static partial void FirstSample(ILogger logger, string root, int temperatures, int fans, string battery, bool onAc, string rapl, string nvidia);

        [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Measured power is unavailable: {Reason}")]
        public static partial void RaplDenied(ILogger logger, string reason);
    }
}
