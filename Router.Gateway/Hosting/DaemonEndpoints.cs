using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Actors.State;
using Router.Gateway.Simulation;
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

    /// <summary>Adds the daemon's routes to the HTTP port's route table (see <see cref="HttpSurfaces.MapHttpSurfaces(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder, Action{HttpRouteTable}?)"/>).</summary>
    public static void Map(HttpRouteTable routes, RouterRuntime runtime, RouterTelemetry telemetry, SimulatedLaptop? machine, SimulationFaults? faults)
    {
        routes.Map(HttpMethods.Get, "/metrics", async context =>
        {
            context.Response.ContentType = RouterMetrics.PrometheusContentType;
            await telemetry.Metrics.WritePrometheusAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        });

        routes.Map(HttpMethods.Get, "/explain", context => ExplainAsync(context, runtime.Router));
        routes.Map(HttpMethods.Get, "/cluster", context => FleetEndpoints.ClusterAsync(context, runtime));

        if (machine is not null)
        {
            var published = new StatePublished(runtime);
            routes.Map(HttpMethods.Get, "/simulation", context => WriteMachineAsync(context, machine, faults));
            routes.Map(HttpMethods.Post, "/simulation", context => SetMachineAsync(context, machine, faults, runtime, published));
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
            writer.WriteString("effective_mode", WireNames.ToWire(d.EffectiveMode));
            writer.WriteNumber("estimated_latency_ms", Math.Round(d.Estimate.LatencyMs, 1));
            writer.WriteNumber("estimated_power_w", Math.Round(d.Estimate.PowerWatts, 2));
            writer.WriteNumber("estimated_energy_wh", Math.Round(d.Estimate.EnergyWh, 6));
            JsonAnswer.WriteStringArray(writer, "alternatives", d.Alternatives);
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static Task WriteMachineAsync(HttpContext context, SimulatedLaptop machine, SimulationFaults? faults) =>
        JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, (machine, faults), static (writer, s) =>
        {
            writer.WriteStartObject();
            writer.WriteBoolean("on_ac_power", s.machine.OnAcPower);
            JsonAnswer.WriteNumberOrNull(writer, "battery_percent", s.machine.BatteryPercent);
            writer.WriteBoolean("throttling", s.machine.Throttling);
            writer.WriteStartObject("temperatures");
            foreach (var (backend, celsius) in s.machine.Temperatures())
            {
                writer.WriteNumber(backend, celsius);
            }

            writer.WriteEndObject();
            s.faults?.Write(writer);
            writer.WriteEndObject();
        });

    /// <summary>
    /// Applies <c>{"on_ac_power": bool, "battery_percent": 0..100 | null, "throttling": bool,
    /// "temperatures": {"backend-id": celsius | null}, "faults": {"backend-id": {…} | null}}</c>
    /// (faults: see <see cref="SimulationFaults"/>); every field is optional, and nothing changes
    /// unless the whole body is valid.
    /// </summary>
    private static async Task SetMachineAsync(HttpContext context, SimulatedLaptop machine, SimulationFaults? faults, RouterRuntime runtime, StatePublished published)
    {
        var body = await RequestBody.ReadOrAnswerAsync(context, runtime.Config.Server.MaxRequestBodyBytes, ApiFlavor.OpenAI).ConfigureAwait(false);
        if (body is null) return;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            await HttpErrorMap.MalformedJson(ex, body).WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
            return;
        }

        Func<Task>? applyFaults = null;
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
                if (!JsonText.TryGetName(property, out var name))
                {
                    await HttpErrorMap.InvalidField(JsonText.Printable(property), "the name " + HttpErrorMap.NotText[3..])
                        .WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
                    return;
                }

                switch (name)
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
                        problem = "must be a number from 0 to 100, or null for no battery";
                        break;
                    case "temperatures" when value.ValueKind == JsonValueKind.Object:
                        var devices = machine.Temperatures().Keys;
                        foreach (var device in value.EnumerateObject())
                        {
                            if (!JsonText.TryGetName(device, out var id))
                            {
                                problem = $"the backend id {JsonText.Printable(device)} " + HttpErrorMap.NotText[3..];
                            }
                            else if (!devices.Contains(id))
                            {
                                // Held for a device that does not exist, it would change nothing and say nothing.
                                problem = $"temperatures.{id} is not a simulated backend; use one of {string.Join(", ", devices)}";
                            }
                            else if (device.Value.ValueKind == JsonValueKind.Null)
                            {
                                changes.Add(() => machine.SetTemperature(id, null));
                            }
                            else if (device.Value.ValueKind == JsonValueKind.Number && device.Value.GetDouble() is >= MinCelsius and <= MaxCelsius)
                            {
                                var celsius = device.Value.GetDouble();
                                changes.Add(() => machine.SetTemperature(id, celsius));
                            }
                            else
                            {
                                problem = FormattableString.Invariant($"temperatures.{id} must be a number of degrees Celsius from {MinCelsius} to {MaxCelsius}, or null");
                            }

                            if (problem is not null) break;
                        }

                        break;
                    case "faults" when faults is not null:
                        if (!faults.TryRead(value, out var apply, out var faultError))
                        {
                            await faultError!.WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
                            return;
                        }

                        applyFaults = apply;
                        break;
                    case "on_ac_power" or "throttling":
                        problem = "must be true or false";
                        break;
                    case "temperatures":
                        problem = "must be an object of backend id to degrees Celsius";
                        break;
                    default:
                        await HttpErrorMap.InvalidField(name, "is not a simulation setting; use on_ac_power, battery_percent, throttling, temperatures or faults")
                            .WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
                        return;
                }

                if (problem is not null)
                {
                    await HttpErrorMap.InvalidField(name, problem).WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
                    return;
                }
            }

            foreach (var change in changes)
            {
                change();
            }
        }

        if (applyFaults is not null)
        {
            try
            {
                await applyFaults().ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                // A device told to accept connections again could not take its port back.
                await new HttpError(503, HttpErrorMap.Unavailable, "simulator_unavailable", "A simulated device could not listen again: " + ex.Message)
                    .WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
                return;
            }
        }

        // Sample now rather than at the next interval, and answer once the state the actors publish
        // has taken the change in (the samplers and the efficiency actor work on their own time):
        // the answer is the state after the change, with the mode Auto chose for it.
        var changed = published.Next();
        runtime.SampleNow();
        var state = await AfterChangeAsync(runtime, machine, changed, published, context.RequestAborted).ConfigureAwait(false);
        await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, (state, faults), static (writer, s) =>
        {
            writer.WriteStartObject();
            writer.WriteString("mode", WireNames.ToWire(s.state.Mode));
            writer.WriteString("effective_mode", WireNames.ToWire(s.state.EffectiveMode));
            writer.WriteString("reason", s.state.ModeReason);
            writer.WriteBoolean("on_ac_power", s.state.OnAcPower);
            JsonAnswer.WriteNumberOrNull(writer, "battery_percent", s.state.BatteryPercent);
            s.faults?.Write(writer);
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// The temperatures a simulated device may be held at: the range a device's hot-c and limit-c
    /// may be configured in. Beyond it a held value (1e308 °C, say) is no test of anything: it kept
    /// the device over its limit, and the whole laptop hot, until someone cleared it.
    /// </summary>
    private const double MinCelsius = -50, MaxCelsius = 200;

    /// <summary>How long POST /simulation waits for the change to show in the published state; it answers with what it has then.</summary>
    private static readonly TimeSpan ChangeShowsWithin = TimeSpan.FromSeconds(5);

    private static async Task<SystemState> AfterChangeAsync(RouterRuntime runtime, SimulatedLaptop machine, Task changed, StatePublished published, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(ChangeShowsWithin);
        while (true)
        {
            var state = await runtime.GetSystemStateAsync(cancellationToken).ConfigureAwait(false);
            if (state.OnAcPower == machine.OnAcPower && state.BatteryPercent == machine.BatteryPercent) return state;
            try
            {
                await changed.WaitAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return state;
            }

            changed = published.Next();
        }
    }

    /// <summary>Completes a task each time the actors publish a <see cref="SystemState"/>.</summary>
    private sealed class StatePublished
    {
        // Observed from the first POST on: the routes are mapped before the actors start.
        private readonly Lazy<Akka.Actor.IActorRef> _observer;
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public StatePublished(RouterRuntime runtime) =>
            _observer = new Lazy<Akka.Actor.IActorRef>(() => runtime.Observe<SystemState>("simulation-answers", _ => Signal()));

        /// <summary>A task that completes at the next publication after this call.</summary>
        public Task Next()
        {
            _ = _observer.Value;
            return Volatile.Read(ref _next).Task;
        }

        public void Signal() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
