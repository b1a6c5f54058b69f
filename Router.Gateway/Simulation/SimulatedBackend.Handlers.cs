using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;

namespace Router.Gateway.Simulation;

public sealed partial class SimulatedBackend
{
    private const string NdjsonContentType = "application/x-ndjson";
    private const string SseContentType = "text/event-stream";
    private const string JsonContentType = "application/json; charset=utf-8";

    // Ollama reports a small load time when the model is already resident.
    private static readonly TimeSpan LoadDuration = TimeSpan.FromMilliseconds(5);

    // Long enough for Kestrel's sender loop to hand the flushed tokens to the socket even on a busy
    // machine; Kestrel offers no signal for "sent".
    private static readonly TimeSpan DropGrace = TimeSpan.FromMilliseconds(500);

    // A whole answer written with no think time goes out in pieces of about this size.
    private const int WholeAnswerFlushBytes = 16 * 1024;

    private long _completionIds;

    private enum GenerationApi
    {
        OllamaGenerate,
        OllamaChat,
        OpenAIChat,
        OpenAICompletion,
    }

    private sealed record Generation(GenerationApi Api, string Model, string Prompt, int MaxTokens, bool LengthLimited, bool Stream, bool IncludeUsage);

    private async Task HandleAsync(HttpContext context, CancellationToken listenerStopping)
    {
        string path = context.Request.Path.Value ?? "/";
        if (path.StartsWith("/sim/", StringComparison.Ordinal))
        {
            await HandleSimAsync(context, path).ConfigureAwait(false);
            return;
        }

        using var requestCts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, listenerStopping);
        CancellationToken token = requestCts.Token;
        Interlocked.Increment(ref _activeRequests);
        _thermal.Enter();
        SignalChanged();
        bool served = false;
        try
        {
            served = await DispatchAsync(context, path, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client went away (or the listener is stopping): stop generating and drop the connection.
            context.Abort();
        }
        finally
        {
            _thermal.Exit();
            if (served)
            {
                Interlocked.Increment(ref _requestsServed);
            }

            Interlocked.Decrement(ref _activeRequests);
            SignalChanged();
        }
    }

    /// <returns>True when the request was answered to the end.</returns>
    private async Task<bool> DispatchAsync(HttpContext context, string path, CancellationToken token)
    {
        if (Faults.Hang)
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, _options.TimeProvider, token).ConfigureAwait(false);
        }

        int faultStatus = Faults.ErrorStatus;
        if (faultStatus != 0)
        {
            await WriteErrorAsync(context, path, faultStatus, $"simulated fault on {Profile.Name}", token).ConfigureAwait(false);
            return true;
        }

        string method = context.Request.Method;
        switch (method, path)
        {
            case ("GET" or "HEAD", "/"):
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync("Ollama is running", token).ConfigureAwait(false);
                return true;
            case ("GET", "/api/version"):
                return await WriteJsonAsync(context, 200, json => json.WriteString("version", _options.Version), token).ConfigureAwait(false);
            case ("GET", "/api/tags"):
                return await WriteJsonAsync(context, 200, WriteTags, token).ConfigureAwait(false);
            case ("GET", "/api/ps"):
                return await WriteJsonAsync(context, 200, WriteLoadedModels, token).ConfigureAwait(false);
            case ("POST", "/api/show"):
                return await ShowAsync(context, token).ConfigureAwait(false);
            case ("POST", "/api/generate"):
                return await GenerateAsync(context, GenerationApi.OllamaGenerate, token).ConfigureAwait(false);
            case ("POST", "/api/chat"):
                return await GenerateAsync(context, GenerationApi.OllamaChat, token).ConfigureAwait(false);
            case ("POST", "/api/embed" or "/api/embeddings" or "/v1/embeddings"):
                return await EmbedAsync(context, path, token).ConfigureAwait(false);
            case ("GET", "/v1/models"):
                return await WriteJsonAsync(context, 200, WriteOpenAIModels, token).ConfigureAwait(false);
            case ("POST", "/v1/chat/completions"):
                return await GenerateAsync(context, GenerationApi.OpenAIChat, token).ConfigureAwait(false);
            case ("POST", "/v1/completions"):
                return await GenerateAsync(context, GenerationApi.OpenAICompletion, token).ConfigureAwait(false);
            default:
                await WriteErrorAsync(context, path, 404, $"{method} {path} not found", token).ConfigureAwait(false);
                return true;
        }
    }

    private async Task<bool> GenerateAsync(HttpContext context, GenerationApi api, CancellationToken token)
    {
        string path = context.Request.Path.Value!;
        using JsonDocument? body = await ReadBodyAsync(context, token).ConfigureAwait(false);
        Generation generation;
        string? problem = "invalid JSON body";
        int status = 400;
        if (body is null || !TryReadGeneration(body.RootElement, api, out generation, out problem, out status))
        {
            await WriteErrorAsync(context, path, status, problem ?? "invalid JSON body", token).ConfigureAwait(false);
            return true;
        }

        if (!Profile.Models.Contains(generation.Model))
        {
            await WriteErrorAsync(context, path, 404, $"model \"{generation.Model}\" not found, try pulling it first", token).ConfigureAwait(false);
            return true;
        }

        if (ModelCatalog.IsEmbedding(generation.Model))
        {
            string verb = api is GenerationApi.OllamaChat or GenerationApi.OpenAIChat ? "chat" : "generate";
            await WriteErrorAsync(context, path, 400, $"\"{generation.Model}\" does not support {verb}", token).ConfigureAwait(false);
            return true;
        }

        if (IsModelLifecycle(body.RootElement, api, out bool unload))
        {
            // Ollama's load (no prompt, no messages) and unload (the same with keep_alive 0):
            // one JSON object, whatever 'stream' says, and /api/ps follows.
            if (unload) _loaded.TryRemove(generation.Model, out _); else MarkLoaded(generation.Model);
            string model = generation.Model;
            return await WriteJsonAsync(context, 200, json => WriteLifecycleAnswer(json, api, model, unload ? "unload" : "load"), token).ConfigureAwait(false);
        }

        MarkLoaded(generation.Model);
        var synthesizer = new TextSynthesizer(generation.Model, generation.Prompt);
        var pace = new GenerationPace(_options.TimeScale, _options.TimeProvider);
        await pace.WaitAsync(Profile.TimeToFirstToken, token).ConfigureAwait(false);

        var timing = new GenerationTiming(Profile, TextSynthesizer.CountTokens(generation.Prompt), generation.MaxTokens);
        string id = NextCompletionId(api);
        return generation.Stream
            ? await StreamTokensAsync(context, generation, synthesizer, timing, pace, id, token).ConfigureAwait(false)
            : await AnswerWholeAsync(context, generation, synthesizer, timing, pace, id, token).ConfigureAwait(false);
    }

    private async Task<bool> StreamTokensAsync(HttpContext context, Generation generation, TextSynthesizer synthesizer, GenerationTiming timing, GenerationPace pace, string id, CancellationToken token)
    {
        bool sse = generation.Api is GenerationApi.OpenAIChat or GenerationApi.OpenAICompletion;
        HttpResponse response = context.Response;
        response.StatusCode = 200;
        response.ContentType = sse ? SseContentType : NdjsonContentType;
        response.Headers.CacheControl = "no-cache";
        PipeWriter output = response.BodyWriter;
        var json = new Utf8JsonWriter(output);
        await using (json.ConfigureAwait(false))
        {
            int drop = Faults.DropAfterTokens;
            for (int i = 0; i < generation.MaxTokens; i++)
            {
                if (i == drop)
                {
                    // Injected fault: the connection dies mid-answer, as when a backend crashes. Kestrel
                    // discards output not yet on the socket when aborting, so give the tokens already
                    // flushed a moment to leave first: the client must see them, then the break.
                    await Task.Delay(DropGrace, _options.TimeProvider, token).ConfigureAwait(false);
                    context.Abort();
                    return false;
                }

                if (i > 0)
                {
                    await pace.WaitAsync(timing.PerToken, token).ConfigureAwait(false);
                }

                await SlowTokenAsync(pace, token).ConfigureAwait(false);
                string text = synthesizer.NextToken(i);
                WriteFrame(output, json, sse, w => WriteTokenChunk(w, generation, id, text));
                await FlushAsync(output, token).ConfigureAwait(false);
                Interlocked.Increment(ref _tokensWritten);
                SignalChanged();
            }

            if (sse)
            {
                WriteFrame(output, json, sse, w => WriteOpenAIFinishChunk(w, generation, id));
                if (generation.IncludeUsage)
                {
                    WriteFrame(output, json, sse, w => WriteOpenAIUsageChunk(w, generation, id, timing));
                }

                output.Write("data: [DONE]\n\n"u8);
            }
            else
            {
                WriteFrame(output, json, sse, w => WriteOllamaFinalFields(w, generation, timing, ""));
            }

            await FlushAsync(output, token).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// A whole (not streamed) answer, written as it is generated: the fields before the text, the
    /// text one token at a time, then the fields after it. The client still gets one JSON object,
    /// but the simulator never holds more than a flush's worth of it, however long the answer.
    /// </summary>
    private async Task<bool> AnswerWholeAsync(HttpContext context, Generation generation, TextSynthesizer synthesizer, GenerationTiming timing, GenerationPace pace, string id, CancellationToken token)
    {
        if (Faults.DropAfterTokens >= 0)
        {
            context.Abort();
            return false;
        }

        HttpResponse response = context.Response;
        response.StatusCode = 200;
        response.ContentType = JsonContentType;
        PipeWriter output = response.BodyWriter;
        var json = new Utf8JsonWriter(output);
        await using (json.ConfigureAwait(false))
        {
            json.WriteStartObject();
            WriteWholeOpening(json, generation, id);
            long flushedAt = 0;
            for (int i = 0; i < generation.MaxTokens; i++)
            {
                // What is written goes out before each wait for the next token (and at least every
                // WholeAnswerFlushBytes when there is no wait), as a server sends what it has.
                bool waits = i > 0 && (_options.TimeScale > 0 || Faults.SlowTokenDelay > TimeSpan.Zero);
                if (waits || json.BytesCommitted + json.BytesPending - flushedAt >= WholeAnswerFlushBytes)
                {
                    json.Flush();
                    flushedAt = json.BytesCommitted;
                    await FlushAsync(output, token).ConfigureAwait(false);
                }

                if (i > 0)
                {
                    await pace.WaitAsync(timing.PerToken, token).ConfigureAwait(false);
                }

                await SlowTokenAsync(pace, token).ConfigureAwait(false);
                json.WriteStringValueSegment(synthesizer.NextToken(i), isFinalSegment: false);
                Interlocked.Increment(ref _tokensWritten);
            }

            json.WriteStringValueSegment("", isFinalSegment: true);
            WriteWholeClosing(json, generation, timing);
            json.WriteEndObject();
            json.Flush();
        }

        await FlushAsync(output, token).ConfigureAwait(false);
        SignalChanged();
        return true;
    }

    private async Task<bool> EmbedAsync(HttpContext context, string path, CancellationToken token)
    {
        using JsonDocument? body = await ReadBodyAsync(context, token).ConfigureAwait(false);
        JsonElement root = body?.RootElement ?? default;
        string? model = body is null ? null : GetString(root, "model");
        List<string> inputs = [];
        if (body is not null)
        {
            string inputName = path == "/api/embeddings" ? "prompt" : "input";
            if (root.TryGetProperty(inputName, out JsonElement input))
            {
                if (input.ValueKind == JsonValueKind.String)
                {
                    inputs.Add(input.GetString()!);
                }
                else if (input.ValueKind == JsonValueKind.Array)
                {
                    foreach (JsonElement item in input.EnumerateArray())
                    {
                        inputs.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText());
                    }
                }
            }
        }

        if (model is null || inputs.Count == 0)
        {
            await WriteErrorAsync(context, path, 400, "model and input are required", token).ConfigureAwait(false);
            return true;
        }

        if (!Profile.Models.Contains(model))
        {
            await WriteErrorAsync(context, path, 404, $"model \"{model}\" not found, try pulling it first", token).ConfigureAwait(false);
            return true;
        }

        int dimensions = _options.EmbeddingDimensions;
        if (root.TryGetProperty("dimensions", out JsonElement d) && d.TryGetInt32(out int requested) && requested > 0)
        {
            dimensions = requested;
        }

        MarkLoaded(model);
        // An embedding is one forward pass over the input: a fraction of a generation's first token.
        await DelayAsync(Profile.TimeToFirstToken / 4, token).ConfigureAwait(false);
        int promptTokens = 0;
        var vectors = new List<float[]>(inputs.Count);
        foreach (string input in inputs)
        {
            promptTokens += TextSynthesizer.CountTokens(input);
            vectors.Add(new TextSynthesizer(model, input).Embedding(dimensions));
        }

        long totalNs = ToNanoseconds(Profile.TimeToFirstToken / 4);
        return await WriteJsonAsync(context, 200, json =>
        {
            switch (path)
            {
                case "/api/embeddings":
                    WriteVector(json, "embedding", vectors[0]);
                    break;
                case "/api/embed":
                    json.WriteString("model", model);
                    json.WriteStartArray("embeddings");
                    foreach (float[] vector in vectors)
                    {
                        WriteVector(json, null, vector);
                    }

                    json.WriteEndArray();
                    json.WriteNumber("total_duration", totalNs);
                    json.WriteNumber("load_duration", ToNanoseconds(LoadDuration));
                    json.WriteNumber("prompt_eval_count", promptTokens);
                    break;
                default:
                    json.WriteString("object", "list");
                    json.WriteStartArray("data");
                    for (int i = 0; i < vectors.Count; i++)
                    {
                        json.WriteStartObject();
                        json.WriteString("object", "embedding");
                        WriteVector(json, "embedding", vectors[i]);
                        json.WriteNumber("index", i);
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                    json.WriteString("model", model);
                    json.WriteStartObject("usage");
                    json.WriteNumber("prompt_tokens", promptTokens);
                    json.WriteNumber("total_tokens", promptTokens);
                    json.WriteEndObject();
                    break;
            }
        }, token).ConfigureAwait(false);
    }

    private async Task<bool> ShowAsync(HttpContext context, CancellationToken token)
    {
        using JsonDocument? body = await ReadBodyAsync(context, token).ConfigureAwait(false);
        string? model = body is null ? null : GetString(body.RootElement, "model") ?? GetString(body.RootElement, "name");
        if (model is null || !Profile.Models.Contains(model))
        {
            await WriteErrorAsync(context, "/api/show", 404, $"model \"{model}\" not found", token).ConfigureAwait(false);
            return true;
        }

        return await WriteJsonAsync(context, 200, json => ModelCatalog.WriteShow(json, model, _options.EmbeddingDimensions, _options.DefaultContextLength), token).ConfigureAwait(false);
    }

    /// <param name="status">The status of the answer when false: 400, or 500 where Ollama fails late
    /// (a known option of the wrong type, which it only finds while applying the options).</param>
    private bool TryReadGeneration(JsonElement root, GenerationApi api, out Generation generation, out string? problem, out int status)
    {
        generation = null!;
        problem = null;
        status = 400;
        if (root.ValueKind != JsonValueKind.Object || GetString(root, "model") is not { } model)
        {
            problem = "model is required";
            return false;
        }

        string prompt;
        if (api is GenerationApi.OllamaChat or GenerationApi.OpenAIChat)
        {
            bool hasMessages = root.TryGetProperty("messages", out JsonElement messages) && messages.ValueKind == JsonValueKind.Array;
            // Ollama takes a chat without messages as a model load; OpenAI requires them.
            if (!hasMessages && api is GenerationApi.OpenAIChat)
            {
                problem = "messages is required";
                return false;
            }

            var text = new System.Text.StringBuilder();
            for (int i = 0; hasMessages && i < messages.GetArrayLength(); i++)
            {
                if (messages[i].ValueKind == JsonValueKind.Object && messages[i].TryGetProperty("content", out JsonElement content))
                {
                    text.Append(content.ValueKind == JsonValueKind.String ? content.GetString() : content.GetRawText()).Append('\n');
                }
            }

            prompt = text.ToString();
        }
        else
        {
            prompt = root.TryGetProperty("prompt", out JsonElement p)
                ? p.ValueKind == JsonValueKind.String ? p.GetString()! : p.GetRawText()
                : "";
        }

        bool ollama = api is GenerationApi.OllamaGenerate or GenerationApi.OllamaChat;
        int? maxTokens = null;
        int? numCtx = null;
        if (ollama && root.TryGetProperty("options", out JsonElement options) && options.ValueKind == JsonValueKind.Object)
        {
            if (!TryReadCount(options, "num_predict", out int? numPredict, out problem) || !TryReadCount(options, "num_ctx", out numCtx, out problem))
            {
                status = 500;
                return false;
            }

            // Ollama: -1 generates until the context is full, -2 fills the context; 0 is unset.
            maxTokens = numPredict is < 0 ? int.MaxValue : numPredict is > 0 ? numPredict : null;
        }
        else if ((root.TryGetProperty("max_tokens", out JsonElement m) || root.TryGetProperty("max_completion_tokens", out m))
            && m.ValueKind != JsonValueKind.Null)
        {
            // Ollama's OpenAI layer binds the body to typed fields: a wrong type is a 400.
            if (m.ValueKind != JsonValueKind.Number || !m.TryGetInt32(out int max))
            {
                problem = "max_tokens must be an integer";
                return false;
            }

            maxTokens = max > 0 ? max : null;
        }

        // Ollama streams unless told not to; OpenAI does not unless asked.
        bool stream = root.TryGetProperty("stream", out JsonElement s) ? s.ValueKind == JsonValueKind.True : ollama;
        bool includeUsage = root.TryGetProperty("stream_options", out JsonElement so) && so.ValueKind == JsonValueKind.Object
            && so.TryGetProperty("include_usage", out JsonElement iu) && iu.ValueKind == JsonValueKind.True;

        // The answer ends when prompt and answer fill the context, whatever was asked for: a
        // request for a billion tokens costs what a real server would give, not a billion tokens.
        int context = ModelCatalog.ContextLength(model, numCtx, _options.DefaultContextLength);
        int room = Math.Max(1, context - TextSynthesizer.CountTokens(prompt));
        int length = Math.Min(maxTokens ?? _options.DefaultMaxTokens, room);
        generation = new Generation(api, model, prompt, length, maxTokens is not null || length == room, stream, includeUsage);
        return true;
    }

    /// <summary>
    /// A whole-number option as Ollama reads it: any JSON number, truncated (its options arrive as
    /// floating point), and clamped to the range of an int. False for another JSON type, which
    /// Ollama answers with a 500 while applying the options.
    /// </summary>
    private static bool TryReadCount(JsonElement options, string name, out int? count, out string? problem)
    {
        count = null;
        problem = null;
        if (!options.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number))
        {
            problem = $"option \"{name}\" must be of type integer";
            return false;
        }

        count = (int)Math.Clamp(Math.Truncate(number), int.MinValue, int.MaxValue);
        return true;
    }

    /// <summary>An Ollama request with nothing to generate: no prompt (nor images), or no messages.</summary>
    private static bool IsModelLifecycle(JsonElement root, GenerationApi api, out bool unload)
    {
        unload = root.TryGetProperty("keep_alive", out JsonElement keepAlive) && Http.OllamaKeepAlive.IsZero(keepAlive);
        return api switch
        {
            GenerationApi.OllamaGenerate => IsEmpty(root, "prompt") && IsEmpty(root, "images"),
            GenerationApi.OllamaChat => IsEmpty(root, "messages"),
            _ => false,
        };

        static bool IsEmpty(JsonElement root, string name) =>
            !root.TryGetProperty(name, out JsonElement value)
            || value.ValueKind == JsonValueKind.Null
            || (value.ValueKind == JsonValueKind.String && value.GetString()!.Length == 0)
            || (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0);
    }

    private Task DelayAsync(TimeSpan simulated, CancellationToken token)
    {
        double scale = _options.TimeScale;
        if (scale <= 0 || simulated <= TimeSpan.Zero)
        {
            token.ThrowIfCancellationRequested();
            return Task.CompletedTask;
        }

        return Task.Delay(simulated * scale, _options.TimeProvider, token);
    }

    private Task SlowTokenAsync(GenerationPace pace, CancellationToken token)
    {
        TimeSpan slow = Faults.SlowTokenDelay;
        return slow > TimeSpan.Zero ? pace.WaitUnscaledAsync(slow, token) : Task.CompletedTask;
    }

    private async ValueTask FlushAsync(PipeWriter output, CancellationToken token)
    {
        ValueTask<FlushResult> pending = output.FlushAsync(token);
        FlushResult result;
        if (pending.IsCompleted)
        {
            result = pending.Result;
        }
        else
        {
            // The send buffer is full: the client is not taking bytes. This is where backpressure
            // reaches the generator.
            Interlocked.Increment(ref _blockedWriters);
            SignalChanged();
            try
            {
                result = await pending.ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _blockedWriters);
                SignalChanged();
            }
        }

        if (result.IsCanceled || result.IsCompleted)
        {
            throw new OperationCanceledException("The client went away.", token);
        }
    }

    private static async Task<JsonDocument?> ReadBodyAsync(HttpContext context, CancellationToken token)
    {
        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body, default, token).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? GetString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private string NextCompletionId(GenerationApi api) =>
        (api == GenerationApi.OpenAIChat ? "chatcmpl-" : "cmpl-") + Interlocked.Increment(ref _completionIds).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static long ToNanoseconds(TimeSpan time) => time.Ticks * 100;

    /// <summary>The device-time numbers a generation reports (unscaled, so stats look like the device).</summary>
    private readonly record struct GenerationTiming(DeviceProfile Profile, int PromptTokens, int CompletionTokens)
    {
        public TimeSpan PerToken => TimeSpan.FromSeconds(1 / Profile.TokensPerSecond);
        public long LoadNs => ToNanoseconds(LoadDuration);
        public long PromptEvalNs => Math.Max(0, ToNanoseconds(Profile.TimeToFirstToken) - LoadNs);
        public long EvalNs => (long)(CompletionTokens / Profile.TokensPerSecond * 1e9);
        public long TotalNs => LoadNs + PromptEvalNs + EvalNs;
    }
}
