using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Gateway.Http;

/// <summary>
/// The informational model endpoints: OpenAI's /v1/models and Ollama's /api/tags, /api/ps,
/// /api/show, /api/version. Lists are unions over the backends, each model naming its backends.
/// </summary>
internal sealed class ModelEndpoints
{
    /// <summary>How long a fan-out to the backends may take before the answer goes out with what arrived.</summary>
    internal static readonly TimeSpan FanOutTimeout = TimeSpan.FromSeconds(10);

    private const string OwnedBy = "ollama-proxy";

    private readonly IRouterAdmin _admin;
    private readonly long _bodyLimit;
    private readonly ILogger _logger;

    public ModelEndpoints(IRouterAdmin admin, long bodyLimit, ILogger logger)
    {
        _admin = admin;
        _bodyLimit = bodyLimit;
        _logger = logger;
    }

    /// <summary>GET /v1/models: every model any backend holds, sorted, with the backends that hold it.</summary>
    public async Task ListOpenAIAsync(HttpContext context)
    {
        var byModel = ModelsByName(await _admin.GetBackendsAsync(context.RequestAborted).ConfigureAwait(false));
        await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, byModel, static (writer, models) =>
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (var (name, backends) in models)
            {
                WriteOpenAIModel(writer, name, backends);
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    /// <summary>GET /v1/models/{model}.</summary>
    public async Task GetOpenAIAsync(HttpContext context, string model)
    {
        var byModel = ModelsByName(await _admin.GetBackendsAsync(context.RequestAborted).ConfigureAwait(false));
        if (!byModel.TryGetValue(model, out var backends))
        {
            await new HttpError(404, HttpErrorMap.NotFound, "model_not_found", $"No backend holds the model '{model}'.", "model")
                .WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
            return;
        }
        await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, (model, backends),
            static (writer, state) => WriteOpenAIModel(writer, state.model, state.backends)).ConfigureAwait(false);
    }

    /// <summary>GET /api/tags: the union of the backends' model lists, deduplicated by name.</summary>
    public async Task TagsAsync(HttpContext context)
    {
        var snapshots = await _admin.GetBackendsAsync(context.RequestAborted).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(FanOutTimeout);

        var lists = new List<(string BackendId, Task<Result<ImmutableArray<BackendModel>, BackendError>> Models)>();
        foreach (var snapshot in snapshots)
        {
            if (_admin.GetClient(snapshot.Id) is { } client)
            {
                lists.Add((snapshot.Id, client.ListModelsAsync(timeout.Token)));
            }
        }

        var union = new ModelUnion();
        var failures = new List<string>();
        foreach (var (backendId, pending) in lists)
        {
            var listed = await AwaitBackend(pending, backendId, "/api/tags").ConfigureAwait(false);
            if (!listed.IsOk)
            {
                failures.Add($"{backendId}: {listed.Error.Message}");
                continue;
            }
            foreach (var model in listed.Value)
            {
                union.Add(backendId, model.Name, () => TagEntry(model));
            }
        }

        if (failures.Count > 0 && failures.Count == lists.Count)
        {
            await new HttpError(502, HttpErrorMap.ServerError, "backend_error", "No backend answered its model list: " + string.Join("; ", failures))
                .WriteAsync(context, ApiFlavor.Ollama).ConfigureAwait(false);
            return;
        }
        await WriteModelsAsync(context, union).ConfigureAwait(false);
    }

    /// <summary>GET /api/ps: the union of the models loaded on the Ollama backends.</summary>
    public async Task RunningAsync(HttpContext context)
    {
        var snapshots = await _admin.GetBackendsAsync(context.RequestAborted).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(FanOutTimeout);

        var calls = new List<(string BackendId, Task<Result<BackendResponse, BackendError>> Answer)>();
        foreach (var snapshot in snapshots)
        {
            if (_admin.GetClient(snapshot.Id) is { } client && client.Supports(BackendApi.OllamaGenerate))
            {
                calls.Add((snapshot.Id, client.PassthroughAsync(HttpMethod.Get, "/api/ps", ReadOnlyMemory<byte>.Empty, timeout.Token)));
            }
        }

        var union = new ModelUnion();
        foreach (var (backendId, pending) in calls)
        {
            var answer = await AwaitBackend(pending, backendId, "/api/ps").ConfigureAwait(false);
            if (!answer.IsOk) continue;
            foreach (var model in ModelsArray(answer.Value.Body))
            {
                var name = (string?)model["name"] ?? (string?)model["model"];
                if (name is null) continue;
                union.Add(backendId, name, () => model);
            }
        }
        await WriteModelsAsync(context, union).ConfigureAwait(false);
    }

    private static readonly string[] ShowModelFields = ["model", "name"];

    /// <summary>POST /api/show: passed through to a backend that holds the model, healthiest first.</summary>
    public async Task ShowAsync(HttpContext context)
    {
        var body = await RequestBody.ReadOrAnswerAsync(context, _bodyLimit, ApiFlavor.Ollama).ConfigureAwait(false);
        if (body is null) return;
        string? model = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && JsonText.TryFindInvalidName(root, out var badName))
            {
                await HttpErrorMap.InvalidName(badName).WriteAsync(context, ApiFlavor.Ollama).ConfigureAwait(false);
                return;
            }
            // Ollama's own clients send "model"; older ones "name".
            foreach (var field in ShowModelFields)
            {
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(field, out var value) || value.ValueKind != JsonValueKind.String) continue;
                if (!JsonText.TryGetString(value, out model))
                {
                    await HttpErrorMap.InvalidText(field).WriteAsync(context, ApiFlavor.Ollama).ConfigureAwait(false);
                    return;
                }
                break;
            }
        }
        catch (JsonException exception)
        {
            await HttpErrorMap.MalformedJson(exception, body).WriteAsync(context, ApiFlavor.Ollama).ConfigureAwait(false);
            return;
        }
        if (string.IsNullOrEmpty(model))
        {
            await HttpErrorMap.MissingField("model", "name the model to show").WriteAsync(context, ApiFlavor.Ollama).ConfigureAwait(false);
            return;
        }

        var snapshots = await _admin.GetBackendsAsync(context.RequestAborted).ConfigureAwait(false);
        var holders = new List<BackendSnapshot>();
        foreach (var snapshot in snapshots)
        {
            if (Holds(snapshot, model)) holders.Add(snapshot);
        }
        holders.Sort(static (a, b) => HealthRank(a.Health).CompareTo(HealthRank(b.Health)));

        HttpError? last = null;
        foreach (var holder in holders)
        {
            if (_admin.GetClient(holder.Id) is not { } client || !client.Supports(BackendApi.OllamaGenerate)) continue;
            var answer = await client.PassthroughAsync(HttpMethod.Post, "/api/show", body, context.RequestAborted).ConfigureAwait(false);
            if (answer.IsOk)
            {
                await JsonAnswer.WriteRawAsync(context, answer.Value.StatusCode, answer.Value.Body).ConfigureAwait(false);
                return;
            }
            Log.PassthroughFailed(_logger, holder.Id, "/api/show", answer.Error.Message);
            last = HttpErrorMap.FromBackend(answer.Error);
            if (last.Status < 500) break;
        }
        await (last ?? new HttpError(404, HttpErrorMap.NotFound, "model_not_found", $"model '{model}' not found on any Ollama backend", "model"))
            .WriteAsync(context, ApiFlavor.Ollama).ConfigureAwait(false);
    }

    /// <summary>
    /// An Ollama unload (<c>/api/generate</c> or <c>/api/chat</c> with no prompt and
    /// <c>keep_alive: 0</c>, as <c>ollama stop</c> sends): passed to every reachable Ollama backend that
    /// holds the model, or only to the <c>X-Target-Backend</c> ones, so the model leaves the memory of
    /// every device. Answers with the first backend's answer and names in <c>X-Unloaded-From</c> the
    /// backends that confirmed.
    /// </summary>
    public async Task UnloadAsync(HttpContext context, RoutedApi api, ReadOnlyMemory<byte> body, string model, string? target)
    {
        IReadOnlyList<BackendSnapshot> snapshots = await _admin.GetBackendsAsync(context.RequestAborted).ConfigureAwait(false);
        if (target is not null)
        {
            snapshots = Scorer.Targeted(target, snapshots, out var unknown);
            if (unknown is not null)
            {
                await HttpErrorMap.FromRoute(unknown).WriteAsync(context, ApiFlavor.Ollama).ConfigureAwait(false);
                return;
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(FanOutTimeout);
        var calls = new List<(string BackendId, Task<Result<BackendResponse, BackendError>> Answer)>();
        foreach (var snapshot in snapshots)
        {
            // A backend known to be down has nothing loaded that could be reached; asking it would
            // only hold the answer up until the fan-out times out.
            if (snapshot.Health == BackendHealth.Unhealthy || !Holds(snapshot, model)) continue;
            if (_admin.GetClient(snapshot.Id) is not { } client || !client.Supports(BackendApi.OllamaGenerate)) continue;
            calls.Add((snapshot.Id, client.PassthroughAsync(HttpMethod.Post, api.Path, body, timeout.Token)));
        }

        if (calls.Count == 0)
        {
            await new HttpError(404, HttpErrorMap.NotFound, "model_not_found", $"model '{model}' is not on any reachable Ollama backend{(target is null ? "" : $" matching '{target}'")}", "model")
                .WriteAsync(context, ApiFlavor.Ollama).ConfigureAwait(false);
            return;
        }

        var unloaded = new List<string>();
        BackendResponse? first = null;
        var failures = new List<string>();
        HttpError? rejected = null;
        foreach (var (backendId, pending) in calls)
        {
            var answer = await AwaitBackend(pending, backendId, api.Path).ConfigureAwait(false);
            if (answer.IsOk)
            {
                unloaded.Add(backendId);
                first ??= answer.Value;
                continue;
            }
            failures.Add($"{backendId}: {answer.Error.Message}");
            var mapped = HttpErrorMap.FromBackend(answer.Error);
            if (mapped.Status < 500) rejected ??= mapped;
        }

        if (first is null)
        {
            await (rejected ?? new HttpError(502, HttpErrorMap.ServerError, "backend_error", $"No backend unloaded '{model}': " + string.Join("; ", failures)))
                .WriteAsync(context, ApiFlavor.Ollama).ConfigureAwait(false);
            return;
        }

        context.Response.Headers[UnloadedFromHeader] = string.Join(", ", unloaded);
        await JsonAnswer.WriteRawAsync(context, first.StatusCode, first.Body).ConfigureAwait(false);
    }

    /// <summary>The backends an unload reached, comma-separated.</summary>
    public const string UnloadedFromHeader = "X-Unloaded-From";

    /// <summary>GET /api/version: the version of the healthiest Ollama backend, or the router's own.</summary>
    public async Task VersionAsync(HttpContext context)
    {
        var snapshots = await _admin.GetBackendsAsync(context.RequestAborted).ConfigureAwait(false);
        var ordered = snapshots.Sort(static (a, b) => HealthRank(a.Health).CompareTo(HealthRank(b.Health)));
        foreach (var snapshot in ordered)
        {
            if (HealthRank(snapshot.Health) > 1) break;
            if (_admin.GetClient(snapshot.Id) is not { } client || !client.Supports(BackendApi.OllamaGenerate)) continue;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(FanOutTimeout);
            var answer = await AwaitBackend(client.PassthroughAsync(HttpMethod.Get, "/api/version", ReadOnlyMemory<byte>.Empty, timeout.Token), snapshot.Id, "/api/version").ConfigureAwait(false);
            if (answer.IsOk && answer.Value.StatusCode == StatusCodes.Status200OK)
            {
                await JsonAnswer.WriteRawAsync(context, StatusCodes.Status200OK, answer.Value.Body).ConfigureAwait(false);
                return;
            }
        }
        await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, RouterVersion, static (writer, version) =>
        {
            writer.WriteStartObject();
            writer.WriteString("version", version);
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    internal static readonly string RouterVersion =
        typeof(ModelEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    /// <summary>Healthy first, then degraded, then the rest.</summary>
    internal static int HealthRank(BackendHealth health) => health switch
    {
        BackendHealth.Healthy => 0,
        BackendHealth.Degraded => 1,
        BackendHealth.Unknown => 2,
        _ => 3,
    };

    /// <summary>Ollama names "llama3.2" and "llama3.2:latest" the same model.</summary>
    internal static bool Holds(BackendSnapshot snapshot, string model) =>
        snapshot.Models.Contains(model)
        || (!model.Contains(':', StringComparison.Ordinal) && snapshot.Models.Contains(model + ":latest"))
        || (model.EndsWith(":latest", StringComparison.Ordinal) && snapshot.Models.Contains(model[..^7]));

    private static SortedDictionary<string, List<string>> ModelsByName(ImmutableArray<BackendSnapshot> snapshots)
    {
        var byModel = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var snapshot in snapshots)
        {
            foreach (var model in snapshot.Models)
            {
                if (!byModel.TryGetValue(model, out var backends))
                {
                    byModel[model] = backends = new List<string>();
                }
                backends.Add(snapshot.Id);
            }
        }
        foreach (var backends in byModel.Values) backends.Sort(StringComparer.Ordinal);
        return byModel;
    }

    private static void WriteOpenAIModel(Utf8JsonWriter writer, string name, List<string> backends)
    {
        writer.WriteStartObject();
        writer.WriteString("id", name);
        writer.WriteString("object", "model");
        writer.WriteNumber("created", 0);
        writer.WriteString("owned_by", OwnedBy);
        JsonAnswer.WriteStringArray(writer, "backends", backends);
        writer.WriteEndObject();
    }

    private async Task<Result<T, BackendError>> AwaitBackend<T>(Task<Result<T, BackendError>> pending, string backendId, string path)
    {
        Result<T, BackendError> result;
        try
        {
            result = await pending.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            result = new BackendError(BackendErrorKind.Timeout, $"no answer within {FanOutTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
        if (!result.IsOk) Log.PassthroughFailed(_logger, backendId, path, result.Error.Message);
        return result;
    }

    /// <summary>The backend's own entry when it sent one (so every Ollama field survives), else one built from the model.</summary>
    private static JsonObject TagEntry(BackendModel model)
    {
        if (!model.Raw.IsEmpty && JsonNode.Parse(model.Raw.Span) is JsonObject raw) return raw;
        return new JsonObject
        {
            ["name"] = model.Name,
            ["model"] = model.Name,
            ["modified_at"] = (model.ModifiedAt ?? DateTimeOffset.UnixEpoch).ToString("O", CultureInfo.InvariantCulture),
            ["size"] = model.SizeBytes,
            ["digest"] = "",
            ["details"] = new JsonObject(),
        };
    }

    private static IEnumerable<JsonObject> ModelsArray(ReadOnlyMemory<byte> body)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body.Span);
        }
        catch (JsonException)
        {
            yield break;
        }
        if (root?["models"] is not JsonArray models) yield break;
        foreach (var model in models)
        {
            if (model is JsonObject entry) yield return entry;
        }
    }

    private static Task WriteModelsAsync(HttpContext context, ModelUnion union) =>
        JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, union, static (writer, models) =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("models");
            foreach (var entry in models.Entries()) entry.WriteTo(writer);
            writer.WriteEndArray();
            writer.WriteEndObject();
        });

    /// <summary>Models by name in first-seen order; each entry gains a <c>backends</c> array.</summary>
    private sealed class ModelUnion
    {
        private readonly Dictionary<string, (JsonObject Entry, JsonArray Backends)> _byName = new(StringComparer.Ordinal);
        private readonly List<string> _order = new();

        public void Add(string backendId, string name, Func<JsonObject> entry)
        {
            if (!_byName.TryGetValue(name, out var existing))
            {
                var created = entry().DeepClone().AsObject();
                var backends = new JsonArray();
                created["backends"] = backends;
                existing = (created, backends);
                _byName[name] = existing;
                _order.Add(name);
            }
            existing.Backends.Add(backendId);
        }

        public IEnumerable<JsonObject> Entries()
        {
            foreach (var name in _order) yield return _byName[name].Entry;
        }
    }
}
