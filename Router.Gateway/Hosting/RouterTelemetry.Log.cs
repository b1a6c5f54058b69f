using Microsoft.Extensions.Logging;

namespace Router.Gateway.Hosting;

internal sealed partial class RouterTelemetry
{
    /// <summary>Event ids 1100–1199: the machine's state as the system-state actors publish it.</summary>
    private static partial class Log
    {
        [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Efficiency mode {Mode}: in effect {From} -> {To} ({Reason})")]
        public static partial void ModeChanged(ILogger logger, string mode, string from, string to, string reason);

        [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Efficiency mode {Mode}, in effect {Effective} ({Reason})")]
        public static partial void ModeInEffect(ILogger logger, string mode, string effective, string reason);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Thermal event {Kind} on {Device} at {TemperatureC} °C: {Message}")]
        public static partial void ThermalWarning(ILogger logger, string kind, string device, double? temperatureC, string message);

        [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Thermal event {Kind} on {Device} at {TemperatureC} °C: {Message}")]
        public static partial void ThermalRecovered(ILogger logger, string kind, string device, double? temperatureC, string message);
    }
}
