using System.Collections.Immutable;
using System.Text.Json;
using System.Threading.Channels;
using Router.Actors.Config;

namespace Router.Actors.Backends;

/// <summary>
/// A client of one Ollama server: the native <c>/api/*</c> endpoints (NDJSON streaming) and Ollama's
/// OpenAI-compatible <c>/v1/*</c> endpoints (SSE streaming) for passthrough of OpenAI requests.
/// </summary>
public sealed class OllamaClient : IBackendClient
{
    private readonly BackendHttpTransport _transport;
    private readonly HealthCheckConfig _health;

    public OllamaClient(BackendConfig config, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _transport = new BackendHttpTransport(config.Id, config.Endpoint, config.Timeouts, config.ApiKey, timeProvider ?? TimeProvider.System);
        _health = config.Health;
    }

    public string BackendId => _transport.BackendId;

    /// <summary>Ollama offers every API: its own natively and the OpenAI ones under <c>/v1</c>.</summary>
    public bool Supports(BackendApi api) => Enum.IsDefined(api);

    public Task<Result<BackendResponse, BackendError>> SendAsync(BackendRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _transport.SendAsync(HttpMethod.Post, BackendPaths.For(request.Api), request.Body, request.Api, cancellationToken);
    }

    public ChannelReader<StreamEvent> Stream(BackendRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        StreamFraming framing = BackendPaths.IsOpenAI(request.Api) ? StreamFraming.Sse : StreamFraming.Ndjson;
        return _transport.Stream(BackendPaths.For(request.Api), request.Body, request.Api, framing, cancellationToken);
    }

    public Task<Result<TimeSpan, BackendError>> ProbeAsync(CancellationToken cancellationToken) =>
        _transport.ProbeAsync(BackendPaths.OllamaVersion, _health.Timeout, cancellationToken);

    public async Task<Result<ImmutableArray<BackendModel>, BackendError>> ListModelsAsync(CancellationToken cancellationToken)
    {
        Result<BackendResponse, BackendError> result = await _transport
            .SendAsync(HttpMethod.Get, BackendPaths.OllamaTags, default, null, cancellationToken).ConfigureAwait(false);
        if (!result.IsOk)
        {
            return result.Error;
        }

        return ModelListParser.ParseOllamaTags(BackendId, result.Value.Body);
    }

    public Task<Result<BackendResponse, BackendError>> PassthroughAsync(HttpMethod method, string path, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentException.ThrowIfNullOrEmpty(path);
        return _transport.SendAsync(method, path, body, null, cancellationToken);
    }

    public async Task<Result<int, BackendError>> GetContextLengthAsync(string model, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        byte[] body = GenerationRequestBuilder.Write(model, static (json, model) => json.WriteString("model", model));
        Result<BackendResponse, BackendError> result = await _transport
            .SendAsync(HttpMethod.Post, BackendPaths.OllamaShow, body, null, cancellationToken).ConfigureAwait(false);
        return result.IsOk ? ModelShowParser.ParseContextLength(BackendId, model, result.Value.Body) : result.Error;
    }

    public void Dispose() => _transport.Dispose();
}

/// <summary>Reads Ollama's <c>/api/show</c> answer.</summary>
internal static class ModelShowParser
{
    /// <summary>
    /// <c>model_info</c> names the context length after the model's architecture
    /// (<c>llama.context_length</c>, <c>qwen2.context_length</c>, …): the one key ending so.
    /// </summary>
    public static Result<int, BackendError> ParseContextLength(string backendId, string model, ReadOnlyMemory<byte> body)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("model_info", out JsonElement info) && info.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty property in info.EnumerateObject())
                {
                    if (property.Name.EndsWith(".context_length", StringComparison.Ordinal)
                        && property.Value.TryGetInt32(out int length) && length > 0)
                    {
                        return Result<int, BackendError>.Ok(length);
                    }
                }
            }

            return new BackendError(BackendErrorKind.Protocol, $"Backend '{backendId}' gave no context length for '{model}' in /api/show.");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return new BackendError(BackendErrorKind.Protocol, $"Backend '{backendId}' sent an invalid /api/show answer for '{model}': {e.Message}");
        }
    }
}

/// <summary>Parses model lists: Ollama's <c>/api/tags</c> and OpenAI's <c>/v1/models</c>.</summary>
internal static class ModelListParser
{
    public static Result<ImmutableArray<BackendModel>, BackendError> ParseOllamaTags(string backendId, ReadOnlyMemory<byte> body)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            if (!document.RootElement.TryGetProperty("models", out JsonElement models) || models.ValueKind != JsonValueKind.Array)
            {
                return Invalid(backendId, "/api/tags has no \"models\" array");
            }

            ImmutableArray<BackendModel>.Builder list = ImmutableArray.CreateBuilder<BackendModel>(models.GetArrayLength());
            foreach (JsonElement model in models.EnumerateArray())
            {
                string? name = GetString(model, "name") ?? GetString(model, "model");
                if (name is null)
                {
                    continue;
                }

                long size = model.TryGetProperty("size", out JsonElement sizeElement) && sizeElement.TryGetInt64(out long s) ? s : 0;
                DateTimeOffset? modified = model.TryGetProperty("modified_at", out JsonElement m)
                    && m.ValueKind == JsonValueKind.String && m.TryGetDateTimeOffset(out DateTimeOffset at) ? at : null;
                list.Add(new BackendModel(name, size, modified) { Raw = System.Text.Encoding.UTF8.GetBytes(model.GetRawText()) });
            }

            return Result<ImmutableArray<BackendModel>, BackendError>.Ok(list.DrainToImmutable());
        }
        catch (JsonException e)
        {
            return Invalid(backendId, e.Message);
        }
    }

    public static Result<ImmutableArray<BackendModel>, BackendError> ParseOpenAIModels(string backendId, ReadOnlyMemory<byte> body)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            if (!document.RootElement.TryGetProperty("data", out JsonElement data) || data.ValueKind != JsonValueKind.Array)
            {
                return Invalid(backendId, "/v1/models has no \"data\" array");
            }

            ImmutableArray<BackendModel>.Builder list = ImmutableArray.CreateBuilder<BackendModel>(data.GetArrayLength());
            foreach (JsonElement model in data.EnumerateArray())
            {
                if (GetString(model, "id") is not { } id)
                {
                    continue;
                }

                DateTimeOffset? created = model.TryGetProperty("created", out JsonElement c) && c.TryGetInt64(out long seconds)
                    ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
                list.Add(new BackendModel(id, 0, created) { Raw = System.Text.Encoding.UTF8.GetBytes(model.GetRawText()) });
            }

            return Result<ImmutableArray<BackendModel>, BackendError>.Ok(list.DrainToImmutable());
        }
        catch (JsonException e)
        {
            return Invalid(backendId, e.Message);
        }
    }

    private static string? GetString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static BackendError Invalid(string backendId, string detail) =>
        new(BackendErrorKind.Protocol, $"Backend '{backendId}' sent an invalid model list: {detail}.");
}
