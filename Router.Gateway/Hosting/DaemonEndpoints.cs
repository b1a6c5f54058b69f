using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Actors.State;
using Router.Gateway.Http;
using Router.Telemetry.Metrics;

namespace Router.Gateway.Hosting;

/// <summary>
/// Endpoints only the daemon has: <c>GET /metrics</c> (Prometheus), <c>GET /explain</c> (what the
/// router would decide now, for the CLI), and in simulation mode <c>GET/POST /simulation</c> to
/// set the simulated battery, AC, temperatures and throttling at run time.
/// </summary>
internal static class DaemonEndpoints
{
    // Query parameter → the routing header it stands for; one parser reads both.
    private static readonly (string Query, string Header)[] ExplainParameters =
    [
        ("target", RoutingHeaders.TargetBackend),
        ("latency_critical", RoutingHeaders.LatencyCritical),
        ("power_efficient", RoutingHeaders.PowerEfficient),
        ("max_latency_ms", RoutingHeaders.MaxLatencyMs),
        ("max_power_watts", RoutingHeaders.MaxPowerWatts),
        ("priority", RoutingHeaders.Priority),
        ("media_type", RoutingHeaders.MediaType),
    ];

    public static void Map(WebApplication app, RouterRuntime runtime, RouterTelemetry telemetry, SimulatedMachine? machine)
    {
        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = RouterMetrics.PrometheusContentType;
            await telemetry.Metrics.WritePrometheusAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        });

        app.MapGet("/explain", context => ExplainAsync(context, runtime.Router));
        app.MapGet("/cluster", context => FleetEndpoints.ClusterAsync(context, runtime));

        if (machine is not null)
        {
            app.MapGet("/simulation", context => WriteMachineAsync(context, machine));
            app.MapPost("/simulation", context => SetMachineAsync(context, machine, runtime));
        }
    }

    private static async Task ExplainAsync(HttpContext context, IInferenceRouter router)
    {
        var headers = new HeaderDictionary();
        var fromQuery = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (query, header) in ExplainParameters)
        {
            if (context.Request.Query.TryGetValue(query, out var value))
            {
                headers[header] = value;
                fromQuery[header] = query;
            }
            else if (context.Request.Headers.TryGetValue(header, out var fromHeader))
            {
                headers[header] = fromHeader;
            }
        }

        var hints = RoutingHintsParser.Parse(headers, out var hintError);
        if (hintError is not null)
        {
            // Name what the caller sent: the query parameter (the CLI's way), not the header it stands for.
            if (fromQuery.TryGetValue(hintError.Name, out var query))
            {
                hintError = new HintError(query, hintError.Message.Replace(hintError.Name, query, StringComparison.OrdinalIgnoreCase));
            }

            await HttpErrorMap.InvalidHeader(hintError).WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
            return;
        }

        string? model = context.Request.Query.TryGetValue("model", out var m) ? m.ToString() : null;
        var result = await router.ExplainAsync(string.IsNullOrEmpty(model) ? null : model, hints, context.RequestAborted).ConfigureAwait(false);
        if (!result.IsOk)
        {
            await HttpErrorMap.FromRoute(result.Error).WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
            return;
        }

        var decision = result.Value;
        await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, decision, static (writer, d) =>
        {
            writer.WriteStartObject();
            writer.WriteString("backend", d.BackendId);
            if (Router.Actors.Fleet.FleetHeaders.NodeOf(d.BackendId) is { } node) writer.WriteString("node", node); else writer.WriteNull("node");
            writer.WriteString("reason", d.Reason);
            writer.WriteString("effective_mode", EfficiencyModeNames.ToWire(d.EffectiveMode));
            writer.WriteNumber("estimated_latency_ms", Math.Round(d.Estimate.LatencyMs, 1));
            writer.WriteNumber("estimated_power_w", Math.Round(d.Estimate.PowerWatts, 2));
            writer.WriteNumber("estimated_energy_wh", Math.Round(d.Estimate.EnergyWh, 6));
            JsonAnswer.WriteStringArray(writer, "alternatives", d.Alternatives);
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static async Task WriteMachineAsync(HttpContext context, SimulatedMachine machine)
    {
        var thermal = await machine.ReadThermalAsync(context.RequestAborted).ConfigureAwait(false);
        await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, (machine, thermal), static (writer, s) =>
        {
            writer.WriteStartObject();
            writer.WriteBoolean("on_ac_power", s.machine.OnAcPower);
            JsonAnswer.WriteNumberOrNull(writer, "battery_percent", s.machine.BatteryPercent);
            writer.WriteBoolean("throttling", s.thermal.Throttling);
            writer.WriteStartObject("temperatures");
            foreach (var (backend, celsius) in s.thermal.TemperatureByBackend)
            {
                writer.WriteNumber(backend, celsius);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Applies <c>{"on_ac_power": bool, "battery_percent": 0..100 | null, "throttling": bool,
    /// "temperatures": {"backend-id": celsius | null}}</c>; every field is optional, and nothing
    /// changes unless the whole body is valid.
    /// </summary>
    private static async Task SetMachineAsync(HttpContext context, SimulatedMachine machine, RouterRuntime runtime)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            await HttpErrorMap.MalformedJson(ex.Message).WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
            return;
        }

        using (document)
        {
            var changes = new List<Action>();
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                await HttpErrorMap.MalformedJson("expected a JSON object").WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
                return;
            }

            foreach (var property in root.EnumerateObject())
            {
                var value = property.Value;
                string? problem = null;
                switch (property.Name)
                {
                    case "on_ac_power" when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                        var online = value.GetBoolean();
                        changes.Add(() => machine.SetAcPower(online));
                        break;
                    case "throttling" when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                        var throttling = value.GetBoolean();
                        changes.Add(() => machine.SetThrottling(throttling));
                        break;
                    case "battery_percent" when value.ValueKind == JsonValueKind.Null:
                        changes.Add(() => machine.SetBatteryPercent(null));
                        break;
                    case "battery_percent" when value.ValueKind == JsonValueKind.Number && value.GetDouble() is >= 0 and <= 100:
                        var percent = value.GetDouble();
                        changes.Add(() => machine.SetBatteryPercent(percent));
                        break;
                    case "battery_percent":
                        problem = "a number from 0 to 100, or null for no battery";
                        break;
                    case "temperatures" when value.ValueKind == JsonValueKind.Object:
                        foreach (var device in value.EnumerateObject())
                        {
                            if (device.Value.ValueKind == JsonValueKind.Null)
                            {
                                var id = device.Name;
                                changes.Add(() => machine.SetTemperature(id, null));
                            }
                            else if (device.Value.ValueKind == JsonValueKind.Number)
                            {
                                var (id, celsius) = (device.Name, device.Value.GetDouble());
                                changes.Add(() => machine.SetTemperature(id, celsius));
                            }
                            else
                            {
                                problem = $"temperatures.{device.Name} must be a number of degrees Celsius or null";
                            }
                        }

                        break;
                    case "on_ac_power" or "throttling":
                        problem = "true or false";
                        break;
                    case "temperatures":
                        problem = "an object of backend id to degrees Celsius";
                        break;
                    default:
                        await HttpErrorMap.InvalidField(property.Name, "is not a simulation setting; use on_ac_power, battery_percent, throttling or temperatures")
                            .WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
                        return;
                }

                if (problem is not null)
                {
                    await HttpErrorMap.InvalidField(property.Name, "must be " + problem).WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
                    return;
                }
            }

            foreach (var change in changes)
            {
                change();
            }
        }

        // Sample now rather than at the next interval, so the answer already reflects the change.
        runtime.SampleNow();
        var state = await runtime.GetSystemStateAsync(context.RequestAborted).ConfigureAwait(false);
        await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, state, static (writer, s) =>
        {
            writer.WriteStartObject();
            writer.WriteString("mode", EfficiencyModeNames.ToWire(s.Mode));
            writer.WriteString("effective_mode", EfficiencyModeNames.ToWire(s.EffectiveMode));
            writer.WriteString("reason", s.ModeReason);
            writer.WriteBoolean("on_ac_power", s.OnAcPower);
            JsonAnswer.WriteNumberOrNull(writer, "battery_percent", s.BatteryPercent);
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }
}
