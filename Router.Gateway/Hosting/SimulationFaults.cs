using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Router.Actors.Config;
using Router.Gateway.Http;
using Router.Gateway.Simulation;

namespace Router.Gateway.Hosting;

/// <summary>
/// The fault switches of the simulated devices, by the id of the backend each one serves, as
/// <c>POST /simulation</c> sets them in a running daemon: <c>{"faults": {"ollama-nvidia":
/// {"error_status": 503, "hang": false, "drop_after_tokens": 5, "slow_token_ms": 20,
/// "refuse_connections": false}}}</c>. A field left out keeps its value; <c>null</c> for a backend
/// clears all of its faults. Reading checks the whole object first, so a bad field changes nothing.
/// </summary>
internal sealed class SimulationFaults
{
    public const string ErrorStatus = "error_status";
    public const string Hang = "hang";
    public const string DropAfterTokens = "drop_after_tokens";
    public const string SlowTokenMs = "slow_token_ms";
    public const string RefuseConnections = "refuse_connections";

    /// <summary>A pause per token longer than this is a hang, which has its own switch.</summary>
    private const double MaxSlowTokenMs = 60_000;

    private readonly ImmutableArray<(string BackendId, SimulatedBackend Device)> _devices;

    private SimulationFaults(ImmutableArray<(string, SimulatedBackend)> devices) => _devices = devices;

    /// <summary>The configured backends that <see cref="SimulationSetup.PointAt"/> pointed at a simulated device, in configuration order.</summary>
    public static SimulationFaults For(RouterConfig config, IReadOnlyList<SimulatedBackend> simulators)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(simulators);
        var devices = ImmutableArray.CreateBuilder<(string, SimulatedBackend)>();
        foreach (var backend in config.Backends)
        {
            foreach (var simulator in simulators)
            {
                if (backend.Endpoint == simulator.Endpoint)
                {
                    devices.Add((backend.Id, simulator));
                    break;
                }
            }
        }

        return new SimulationFaults(devices.ToImmutable());
    }

    /// <summary>
    /// Reads the value of <c>faults</c>. On success <paramref name="apply"/> makes every change
    /// (refusing or accepting connections restarts a device's listener, hence a task); on failure
    /// the error names the field and says what it takes.
    /// </summary>
    public bool TryRead(JsonElement value, out Func<Task> apply, out HttpError? error)
    {
        apply = static () => Task.CompletedTask;
        error = null;
        if (value.ValueKind != JsonValueKind.Object)
        {
            error = HttpErrorMap.InvalidField("faults", "must be an object of backend id to its faults, e.g. {\"ollama-nvidia\": {\"error_status\": 503}}");
            return false;
        }

        var changes = new List<Func<Task>>();
        foreach (var backend in value.EnumerateObject())
        {
            if (!JsonText.TryGetName(backend, out var id))
            {
                error = HttpErrorMap.InvalidField("faults", $"the backend id {JsonText.Printable(backend)} " + HttpErrorMap.NotText[3..]);
                return false;
            }

            if (Find(id) is not { } device)
            {
                error = HttpErrorMap.InvalidField("faults." + id, $"is not a simulated backend; use one of {string.Join(", ", _devices.Select(d => d.BackendId))}");
                return false;
            }

            if (backend.Value.ValueKind == JsonValueKind.Null)
            {
                changes.Add(() =>
                {
                    device.Faults.Clear();
                    return device.AcceptConnectionsAsync();
                });
                continue;
            }

            if (backend.Value.ValueKind != JsonValueKind.Object)
            {
                error = HttpErrorMap.InvalidField("faults." + id, $"must be an object of faults ({Names}), or null to clear them");
                return false;
            }

            foreach (var field in backend.Value.EnumerateObject())
            {
                if (!TryReadFault(device, field, changes, out var problem))
                {
                    var name = JsonText.TryGetName(field, out var fieldName) ? fieldName : JsonText.Printable(field);
                    error = HttpErrorMap.InvalidField($"faults.{id}.{name}", problem);
                    return false;
                }
            }
        }

        apply = async () =>
        {
            foreach (var change in changes)
            {
                await change().ConfigureAwait(false);
            }
        };
        return true;
    }

    private const string Names = ErrorStatus + ", " + Hang + ", " + DropAfterTokens + ", " + SlowTokenMs + ", " + RefuseConnections;

    private static bool TryReadFault(SimulatedBackend device, JsonProperty field, List<Func<Task>> changes, out string problem)
    {
        problem = string.Empty;
        var value = field.Value;
        if (!JsonText.TryGetName(field, out var name))
        {
            problem = "the name " + HttpErrorMap.NotText[3..];
            return false;
        }

        switch (name)
        {
            case ErrorStatus when value.ValueKind == JsonValueKind.Null:
                changes.Add(Sync(() => device.Faults.ErrorStatus = 0));
                return true;
            case ErrorStatus when value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var status) && status is 0 or (>= 400 and <= 599):
                changes.Add(Sync(() => device.Faults.ErrorStatus = status));
                return true;
            case ErrorStatus:
                problem = "must be an HTTP status from 400 to 599 (every request is answered with it), or 0 or null for none";
                return false;
            case Hang when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                var hang = value.GetBoolean();
                changes.Add(Sync(() => device.Faults.Hang = hang));
                return true;
            case DropAfterTokens when value.ValueKind == JsonValueKind.Null:
                changes.Add(Sync(() => device.Faults.DropAfterTokens = -1));
                return true;
            case DropAfterTokens when value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var tokens) && tokens >= -1:
                changes.Add(Sync(() => device.Faults.DropAfterTokens = tokens));
                return true;
            case DropAfterTokens:
                problem = "must be how many tokens a generation sends before its connection drops (0 or more), or null (or -1) for never";
                return false;
            case SlowTokenMs when value.ValueKind == JsonValueKind.Null:
                changes.Add(Sync(() => device.Faults.SlowTokenDelay = TimeSpan.Zero));
                return true;
            case SlowTokenMs when value.ValueKind == JsonValueKind.Number && value.GetDouble() is >= 0 and <= MaxSlowTokenMs:
                var delay = TimeSpan.FromMilliseconds(value.GetDouble());
                changes.Add(Sync(() => device.Faults.SlowTokenDelay = delay));
                return true;
            case SlowTokenMs:
                problem = $"must be the extra milliseconds before each token, from 0 to {MaxSlowTokenMs.ToString(CultureInfo.InvariantCulture)}, or null for none";
                return false;
            case RefuseConnections when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                var refuse = value.GetBoolean();
                changes.Add(() => refuse ? device.RefuseConnectionsAsync() : device.AcceptConnectionsAsync());
                return true;
            case Hang or RefuseConnections:
                problem = "must be true or false";
                return false;
            default:
                problem = $"is not a fault; use {Names}";
                return false;
        }
    }

    private static Func<Task> Sync(Action change) => () =>
    {
        change();
        return Task.CompletedTask;
    };

    private SimulatedBackend? Find(string backendId)
    {
        foreach (var (id, device) in _devices)
        {
            if (string.Equals(id, backendId, StringComparison.Ordinal)) return device;
        }

        return null;
    }

    /// <summary>Writes <c>"faults": {backend id: {…}}</c>: every simulated backend with its switches as they are now.</summary>
    public void Write(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject("faults");
        foreach (var (id, device) in _devices)
        {
            var faults = device.Faults;
            writer.WriteStartObject(id);
            writer.WriteNumber(ErrorStatus, faults.ErrorStatus);
            writer.WriteBoolean(Hang, faults.Hang);
            if (faults.DropAfterTokens < 0) writer.WriteNull(DropAfterTokens);
            else writer.WriteNumber(DropAfterTokens, faults.DropAfterTokens);
            writer.WriteNumber(SlowTokenMs, faults.SlowTokenDelay.TotalMilliseconds);
            writer.WriteBoolean(RefuseConnections, faults.RefuseConnections);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }
}
