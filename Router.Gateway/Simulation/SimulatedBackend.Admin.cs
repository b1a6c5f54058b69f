using System.Text.Json;

namespace Router.Gateway.Simulation;

public sealed partial class SimulatedBackend
{
    // GET /sim/state, GET /sim/faults, POST /sim/faults. Not subject to faults, not counted as requests.
    private async Task HandleSimAsync(HttpContext context, string path)
    {
        CancellationToken token = context.RequestAborted;
        switch (context.Request.Method, path)
        {
            case ("GET", "/sim/state"):
                await WriteJsonAsync(context, 200, WriteState, token).ConfigureAwait(false);
                return;
            case ("GET", "/sim/faults"):
                await WriteJsonAsync(context, 200, WriteFaults, token).ConfigureAwait(false);
                return;
            case ("POST", "/sim/faults"):
                await SetFaultsAsync(context, token).ConfigureAwait(false);
                return;
            default:
                await WriteErrorAsync(context, path, 404, $"{context.Request.Method} {path} not found", token).ConfigureAwait(false);
                return;
        }
    }

    /// <summary>
    /// Body: <c>{"clear": true, "errorStatus": 503, "hang": true, "dropAfterTokens": 5, "slowTokenMs": 50,
    /// "refuseConnections": true, "refuseForMs": 2000}</c>, every field optional, <c>clear</c> applied first.
    /// Refusing starts after this answer is sent; over HTTP it can only end by itself (<c>refuseForMs</c>),
    /// since a refusing backend has no listener to ask. From code, call <see cref="AcceptConnectionsAsync"/>.
    /// </summary>
    private async Task SetFaultsAsync(HttpContext context, CancellationToken token)
    {
        using JsonDocument? body = await ReadBodyAsync(context, token).ConfigureAwait(false);
        if (body is null || body.RootElement.ValueKind != JsonValueKind.Object)
        {
            await WriteErrorAsync(context, "/sim/faults", 400, "expected a JSON object", token).ConfigureAwait(false);
            return;
        }

        JsonElement root = body.RootElement;
        try
        {
            if (root.TryGetProperty("clear", out JsonElement clear) && clear.ValueKind == JsonValueKind.True)
            {
                Faults.Clear();
            }

            if (root.TryGetProperty("errorStatus", out JsonElement status))
            {
                Faults.ErrorStatus = status.ValueKind == JsonValueKind.Null ? 0 : status.GetInt32();
            }

            if (root.TryGetProperty("hang", out JsonElement hang))
            {
                Faults.Hang = hang.ValueKind == JsonValueKind.True;
            }

            if (root.TryGetProperty("dropAfterTokens", out JsonElement drop))
            {
                Faults.DropAfterTokens = drop.ValueKind == JsonValueKind.Null ? -1 : drop.GetInt32();
            }

            if (root.TryGetProperty("slowTokenMs", out JsonElement slow))
            {
                Faults.SlowTokenDelay = slow.ValueKind == JsonValueKind.Null ? TimeSpan.Zero : TimeSpan.FromMilliseconds(slow.GetDouble());
            }
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            await WriteErrorAsync(context, "/sim/faults", 400, e.Message, token).ConfigureAwait(false);
            return;
        }

        if (root.TryGetProperty("refuseConnections", out JsonElement refuse) && refuse.ValueKind == JsonValueKind.True)
        {
            TimeSpan refuseFor = root.TryGetProperty("refuseForMs", out JsonElement forMs) && forMs.TryGetDouble(out double ms) && ms > 0
                ? TimeSpan.FromMilliseconds(ms)
                : TimeSpan.Zero;
            // Stop listening only once this answer is out; stopping waits for in-flight requests.
            context.Response.OnCompleted(() =>
            {
                _ = RefuseForAsync(refuseFor);
                return Task.CompletedTask;
            });
        }

        await WriteJsonAsync(context, 200, WriteFaults, token).ConfigureAwait(false);
    }

    private async Task RefuseForAsync(TimeSpan duration)
    {
        try
        {
            await RefuseConnectionsAsync(CancellationToken.None).ConfigureAwait(false);
            if (duration > TimeSpan.Zero)
            {
                await Task.Delay(duration, _options.TimeProvider).ConfigureAwait(false);
                await AcceptConnectionsAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: nothing to restore.
        }
    }

    private void WriteState(Utf8JsonWriter json)
    {
        SimulatedDeviceState state = GetState();
        json.WriteString("device", state.Device);
        json.WriteString("hardware", state.Hardware);
        json.WriteNumber("temperatureC", state.TemperatureC);
        json.WriteNumber("powerWatts", state.PowerWatts);
        json.WriteNumber("energyWh", state.EnergyWh);
        json.WriteBoolean("busy", state.Busy);
        json.WriteNumber("activeRequests", state.ActiveRequests);
        json.WriteNumber("requestsServed", state.RequestsServed);
        json.WriteNumber("tokensGenerated", state.TokensGenerated);
        json.WriteNumber("timeScale", _options.TimeScale);
        json.WriteStartObject("faults");
        WriteFaults(json);
        json.WriteEndObject();
    }

    private void WriteFaults(Utf8JsonWriter json)
    {
        json.WriteNumber("errorStatus", Faults.ErrorStatus);
        json.WriteBoolean("hang", Faults.Hang);
        json.WriteNumber("dropAfterTokens", Faults.DropAfterTokens);
        json.WriteNumber("slowTokenMs", Faults.SlowTokenDelay.TotalMilliseconds);
        json.WriteBoolean("refuseConnections", Faults.RefuseConnections);
    }
}
