using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Router.Actors.Inference;
using Router.Actors.Inspection;
using Router.Actors.Routing;
using Router.Telemetry.Energy;

namespace Router.Gateway.Http;

/// <summary>
/// The admin endpoints: /health, /backends, /thermal, /efficiency (GET, POST), /actors. They read
/// the snapshots the actors publish; nothing here asks a backend anything.
/// </summary>
internal sealed class AdminEndpoints
{
    private readonly IRouterAdmin _admin;
    private readonly ILogger _logger;

    public AdminEndpoints(IRouterAdmin admin, ILogger logger)
    {
        _admin = admin;
        _logger = logger;
    }

    /// <summary>Usable: healthy, or degraded (slow or erroring, but still serving).</summary>
    internal static bool IsUsable(BackendHealth health) => health is BackendHealth.Healthy or BackendHealth.Degraded;

    /// <summary>GET /health: 200 while at least one backend can serve, else 503.</summary>
    public async Task HealthAsync(HttpContext context)
    {
        var snapshots = await _admin.GetBackendsAsync(context.RequestAborted).ConfigureAwait(false);
        var usable = 0;
        var healthy = 0;
        foreach (var snapshot in snapshots)
        {
            if (IsUsable(snapshot.Health)) usable++;
            if (snapshot.Health == BackendHealth.Healthy) healthy++;
        }
        var status = usable == 0 ? "unhealthy" : healthy == snapshots.Length ? "healthy" : "degraded";
        await JsonAnswer.WriteAsync(context, usable > 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable,
            (snapshots, status, usable), static (writer, state) =>
            {
                writer.WriteStartObject();
                writer.WriteString("status", state.status);
                writer.WriteNumber("usable_backends", state.usable);
                writer.WriteNumber("total_backends", state.snapshots.Length);
                writer.WriteStartArray("backends");
                foreach (var snapshot in state.snapshots)
                {
                    writer.WriteStartObject();
                    writer.WriteString("id", snapshot.Id);
                    writer.WriteString("health", WireNames.ToWire(snapshot.Health));
                    if (snapshot.StatusMessage is null) writer.WriteNull("message"); else writer.WriteString("message", snapshot.StatusMessage);
                    if (snapshot.LastCheck is { } checkedAt) writer.WriteString("last_check", checkedAt);
                    else writer.WriteNull("last_check");
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }).ConfigureAwait(false);
    }

    /// <summary>GET /backends: state, characteristics, models, live metrics and queues per backend.</summary>
    public async Task BackendsAsync(HttpContext context)
    {
        var snapshots = await _admin.GetBackendsAsync(context.RequestAborted).ConfigureAwait(false);
        await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, snapshots, static (writer, backends) =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("backends");
            foreach (var snapshot in backends) WriteBackend(writer, snapshot);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    /// <summary>GET /thermal: temperatures per backend device, throttling, the hottest reading, and the energy each backend has used (where the host meters it).</summary>
    public async Task ThermalAsync(HttpContext context)
    {
        var state = await _admin.GetSystemStateAsync(context.RequestAborted).ConfigureAwait(false);
        var energy = context.RequestServices.GetService<EnergyMeter>();
        await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, (state, energy), static (writer, answer) =>
        {
            var (system, energy) = answer;
            writer.WriteStartObject();
            JsonAnswer.WriteNumberOrNull(writer, "max_temperature_c", system.MaxTemperatureC);
            writer.WriteBoolean("throttling", system.Throttling);
            writer.WriteStartObject("backends");
            var ids = system.ThermalByBackend.Keys.ToArray();
            Array.Sort(ids, StringComparer.Ordinal);
            foreach (var id in ids)
            {
                var thermal = system.ThermalByBackend[id];
                writer.WriteStartObject(id);
                JsonAnswer.WriteNumberOrNull(writer, "temperature_c", thermal.TemperatureC);
                writer.WriteNumber("hot_c", thermal.HotC);
                writer.WriteNumber("limit_c", thermal.LimitC);
                writer.WriteString("state", thermal.TemperatureC switch
                {
                    null => "unknown",
                    var t when t >= thermal.LimitC => "over-limit",
                    var t when t >= thermal.HotC => "hot",
                    _ => "ok",
                });
                if (energy is not null) writer.WriteNumber("energy_wh", Math.Round(energy.GetTotals(id).WattHours, 6));
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    /// <summary>GET /efficiency.</summary>
    public async Task GetEfficiencyAsync(HttpContext context)
    {
        var state = await _admin.GetSystemStateAsync(context.RequestAborted).ConfigureAwait(false);
        await WriteEfficiencyAsync(context, state).ConfigureAwait(false);
    }

    /// <summary>POST /efficiency {"mode": "..."}: any spelling of a mode; anything else is a 400 listing the valid ones, and any other field a 400 naming it (nothing changes).</summary>
    public async Task SetEfficiencyAsync(HttpContext context, long bodyLimit)
    {
        var body = await RequestBody.ReadOrAnswerAsync(context, bodyLimit, ApiFlavor.OpenAI).ConfigureAwait(false);
        if (body is null) return;
        string? requested;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && JsonText.TryFindInvalidName(root, out var badName))
            {
                await HttpErrorMap.InvalidName(badName).WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
                return;
            }
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("mode", out var mode) || mode.ValueKind == JsonValueKind.Null)
            {
                await HttpErrorMap.MissingField("mode", "one of " + WireNames.ValidModes).WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
                return;
            }
            if (!JsonText.IsValid(mode))
            {
                await HttpErrorMap.InvalidText("mode").WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
                return;
            }
            // A field this endpoint does not know is a mistake (a misspelt setting, a request meant for
            // another endpoint), not something to drop while the mode changes anyway; /simulation does the same.
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name != "mode")
                {
                    await HttpErrorMap.InvalidField(property.Name, "is not an efficiency setting; the body is {\"mode\": \"<mode>\"} alone")
                        .WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
                    return;
                }
            }
            requested = mode.ValueKind == JsonValueKind.String ? mode.GetString() : mode.GetRawText();
        }
        catch (JsonException exception)
        {
            await HttpErrorMap.MalformedJson(exception, body).WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
            return;
        }
        if (!WireNames.TryParseMode(requested, out var parsed))
        {
            await new HttpError(400, HttpErrorMap.InvalidRequest, "invalid_mode",
                    $"'{requested}' is not an efficiency mode; use one of {WireNames.ValidModes}.", "mode")
                .WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
            return;
        }
        var state = await _admin.SetModeAsync(parsed, context.RequestAborted).ConfigureAwait(false);
        Log.ModeSet(_logger, WireNames.ToWire(state.Mode), WireNames.ToWire(state.EffectiveMode));
        await WriteEfficiencyAsync(context, state).ConfigureAwait(false);
    }

    /// <summary>GET /actors[?path=/user/backends]: the live actor tree, or the subtree at <c>path</c>.</summary>
    public Task ActorsAsync(HttpContext context)
    {
        var path = context.Request.Query.TryGetValue("path", out var given) ? given.ToString() : ActorTreeInspector.DefaultPath;
        if (!path.StartsWith('/'))
        {
            return new HttpError(400, HttpErrorMap.InvalidRequest, "invalid_path",
                $"path must be an actor path starting with '/', such as /user or /user/backends, not '{path}'").WriteAsync(context, ApiFlavor.OpenAI);
        }

        if (_admin.InspectActors(path) is not { } tree)
        {
            return new HttpError(404, HttpErrorMap.NotFound, "actor_not_found",
                $"no actor lives at {path}; try /user, or /user/backends for the backend actors").WriteAsync(context, ApiFlavor.OpenAI);
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(tree, ActorTreeJson.Options);
        return JsonAnswer.WriteRawAsync(context, StatusCodes.Status200OK, json);
    }

    private static Task WriteEfficiencyAsync(HttpContext context, SystemState state) =>
        JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, state, static (writer, system) =>
        {
            writer.WriteStartObject();
            writer.WriteString("mode", WireNames.ToWire(system.Mode));
            writer.WriteString("effective_mode", WireNames.ToWire(system.EffectiveMode));
            writer.WriteString("reason", system.ModeReason);
            writer.WriteBoolean("on_ac_power", system.OnAcPower);
            JsonAnswer.WriteNumberOrNull(writer, "battery_percent", system.BatteryPercent);
            JsonAnswer.WriteNumberOrNull(writer, "time_to_empty_s", system.TimeToEmpty is { } remaining ? Math.Round(remaining.TotalSeconds) : null);
            if (system.PowerProfile is null) writer.WriteNull("power_profile"); else writer.WriteString("power_profile", system.PowerProfile);
            writer.WriteStartArray("valid_modes");
            foreach (var mode in WireNames.Modes) writer.WriteStringValue(WireNames.ToWire(mode));
            writer.WriteEndArray();
            writer.WriteEndObject();
        });


    private static void WriteBackend(Utf8JsonWriter writer, BackendSnapshot snapshot)
    {
        writer.WriteStartObject();
        writer.WriteString("id", snapshot.Id);
        if (snapshot.Node is null) writer.WriteNull("node"); else writer.WriteString("node", snapshot.Node);
        writer.WriteNumber("network_round_trip_ms", Math.Round(snapshot.NetworkRoundTripMs, 3));
        writer.WriteString("name", snapshot.Name);
        writer.WriteString("type", snapshot.Type);
        writer.WriteString("hardware", snapshot.Hardware);
        writer.WriteString("health", WireNames.ToWire(snapshot.Health));
        if (snapshot.StatusMessage is null) writer.WriteNull("status_message"); else writer.WriteString("status_message", snapshot.StatusMessage);
        if (snapshot.LastCheck is { } checkedAt) writer.WriteString("last_check", checkedAt); else writer.WriteNull("last_check");

        writer.WriteStartObject("characteristics");
        writer.WriteNumber("power_watts", snapshot.PowerWatts);
        writer.WriteNumber("avg_latency_ms", snapshot.AvgLatencyMs);
        writer.WriteNumber("priority", snapshot.ConfiguredPriority);
        writer.WriteNumber("max_concurrent", snapshot.MaxConcurrent);
        writer.WriteEndObject();

        var models = snapshot.Models.ToArray();
        Array.Sort(models, StringComparer.Ordinal);
        JsonAnswer.WriteStringArray(writer, "models", models);
        writer.WriteBoolean("models_known", snapshot.ModelsKnown);

        writer.WriteStartObject("metrics");
        writer.WriteNumber("in_flight", snapshot.InFlight);
        writer.WriteNumber("error_rate", snapshot.ErrorRate);
        writer.WriteNumber("requests_total", snapshot.RequestsTotal);
        writer.WriteNumber("failures_total", snapshot.FailuresTotal);
        writer.WriteStartObject("models");
        foreach (var (model, metrics) in snapshot.MetricsByModel.OrderBy(static m => m.Key, StringComparer.Ordinal))
        {
            writer.WriteStartObject(model);
            writer.WriteNumber("time_to_first_token_ms", metrics.TimeToFirstTokenMs);
            writer.WriteNumber("tokens_per_second", metrics.TokensPerSecond);
            writer.WriteNumber("samples", metrics.Samples);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();

        WriteByPriority(writer, "queue", snapshot.QueueDepthByPriority);
        WriteByPriority(writer, "queue_limits", snapshot.QueueLimitByPriority);
        writer.WriteNumber("version", snapshot.Version);
        writer.WriteEndObject();
    }

    private static void WriteByPriority(Utf8JsonWriter writer, string name, ImmutableArray<int> values)
    {
        writer.WriteStartObject(name);
        for (var i = 0; i < WireNames.PriorityNames.Length; i++)
        {
            writer.WriteNumber(WireNames.PriorityNames[i], i < values.Length ? values[i] : 0);
        }
        writer.WriteEndObject();
    }

}
