using System.Text.Json;
using Akka.Streams;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Gateway.Hosting;
using Router.Actors.Routing;

namespace Router.Gateway.Http;

/// <summary>
/// One routed endpoint (/v1/chat/completions, /api/generate …). The pipeline per request:
/// 1. read the body under the limit (413); 2. read the hint headers (400 naming the header);
/// 3. check the JSON and the fields the API needs (400 naming the field); 4. hand the body,
/// unchanged, to the router (an Ollama unload goes to every backend holding the model instead);
/// 5. write the answer, or the failure in the caller's format.
/// </summary>
internal sealed partial class InferenceEndpoint
{
    private readonly RoutedApi _api;
    private readonly IInferenceRouter _router;
    private readonly ModelEndpoints _models;
    private readonly long _bodyLimit;
    private readonly ILogger _logger;
    private readonly Lazy<IMaterializer> _materializer;
    private readonly ShutdownDrain? _drain;

    /// <param name="models">Serves Ollama's unload, which goes to every backend rather than one.</param>
    /// <param name="materializer">Runs the token streams; resolved at the first stream, once the actor system runs.</param>
    /// <param name="drain">The daemon's stop; null in hosts that have none (tests of the surface alone).</param>
    public InferenceEndpoint(RoutedApi api, IInferenceRouter router, ModelEndpoints models, long bodyLimit, ILogger logger, Lazy<IMaterializer> materializer, ShutdownDrain? drain)
    {
        _drain = drain;
        _api = api;
        _router = router;
        _models = models;
        _bodyLimit = bodyLimit;
        _logger = logger;
        _materializer = materializer;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var body = await RequestBody.ReadOrAnswerAsync(context, _bodyLimit, _api.Flavor).ConfigureAwait(false);
        if (body is null) return;

        var hints = RoutingHintsParser.Parse(context.Request.Headers, out var hintError);
        if (hintError is not null)
        {
            await HttpErrorMap.InvalidHeader(hintError).WriteAsync(context, _api.Flavor).ConfigureAwait(false);
            return;
        }
        context.Response.Headers[RoutingHeaders.RequestId] = hints.RequestId;

        var fields = ReadFields(body, _api, out var fieldError);
        if (fieldError is not null)
        {
            await fieldError.WriteAsync(context, _api.Flavor).ConfigureAwait(false);
            return;
        }

        if (fields.Lifecycle == ModelLifecycle.Unload)
        {
            await _models.UnloadAsync(context, _api, body, fields.Model, hints.Target).ConfigureAwait(false);
            return;
        }

        var request = new InferenceRequest(fields.Model, hints, new BackendRequest(_api.Api, body, fields.Stream))
        {
            ExpectedTokens = fields.ExpectedTokens,
        };
        // The request ends when its client leaves, or when the daemon's drain runs out.
        using var lifetime = _drain is null ? null : CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _drain.Ending);
        var token = lifetime?.Token ?? context.RequestAborted;
        try
        {
            if (fields.Stream)
            {
                await StreamAsync(context, request, token).ConfigureAwait(false);
            }
            else
            {
                await SendAsync(context, request, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested && _drain?.Ending.IsCancellationRequested == true)
        {
            // The drain ran out before this request had an answer to send: a clean refusal.
            if (context.Response.HasStarted) throw;
            await HttpErrorMap.ShuttingDown.WriteAsync(context, _api.Flavor).ConfigureAwait(false);
        }
        catch (Exception exception) when (!(exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested))
        {
            // A fault in the router is a bug, not an expected failure: log it in full, and still
            // answer in the caller's format when the headers have not gone out yet.
            Log.RequestCrashed(_logger, hints.RequestId, _api.Path, exception);
            if (context.Response.HasStarted) throw;
            context.Response.Clear();
            context.Response.Headers[RoutingHeaders.RequestId] = hints.RequestId;
            await new HttpError(500, HttpErrorMap.ServerError, "internal_error", $"The router failed on request {hints.RequestId}; see its log.")
                .WriteAsync(context, _api.Flavor).ConfigureAwait(false);
        }
    }

    private async Task SendAsync(HttpContext context, InferenceRequest request, CancellationToken cancellationToken)
    {
        var sent = await _router.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!sent.IsOk)
        {
            await FailAsync(context, request, sent.Error).ConfigureAwait(false);
            return;
        }
        var answer = sent.Value;
        var response = context.Response;
        RoutingHeaders.WriteDecision(response.Headers, answer.Decision);
        response.StatusCode = answer.Response.StatusCode;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = answer.Response.Body.Length;
        // The backend's body as is: it carries usage, and every field this router does not know.
        await response.Body.WriteAsync(answer.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }

    private Task FailAsync(HttpContext context, InferenceRequest request, InferenceError error)
    {
        // Counted and logged (at most once per code per interval) where every error answer is written.
        return HttpErrorMap.FromInference(error).WriteAsync(context, _api.Flavor);
    }

    /// <summary>What the router needs from the body; the body itself is forwarded untouched.</summary>
    internal readonly record struct RequestFields(string Model, bool Stream, int? ExpectedTokens, ModelLifecycle Lifecycle = ModelLifecycle.None);

    /// <summary>
    /// Reads the few fields the router needs in one forward pass over the body, which also checks
    /// that the whole body is well-formed JSON (a malformed body is reported before a missing field).
    /// No document is built: the body goes to the backend as it came.
    /// </summary>
    internal static RequestFields ReadFields(ReadOnlyMemory<byte> body, RoutedApi api, out HttpError? error)
    {
        var fields = new FieldScan();
        var reader = new Utf8JsonReader(body.Span);
        bool isObject;
        try
        {
            isObject = reader.Read() && reader.TokenType == JsonTokenType.StartObject;
            if (isObject)
            {
                ScanObject(ref reader, api, ref fields);
            }
            else
            {
                reader.Skip();
            }

            // Anything after the root value other than white space is malformed.
            while (reader.Read())
            {
            }
        }
        catch (JsonException exception)
        {
            error = HttpErrorMap.MalformedJson(exception, body.Span);
            return default;
        }

        if (!isObject)
        {
            error = HttpErrorMap.MalformedJson("the body must be a JSON object.");
            return default;
        }
        if (fields.NotText is not null)
        {
            error = fields.NotText;
            return default;
        }
        if (fields.Model is not { Length: > 0 } model)
        {
            error = HttpErrorMap.MissingField("model", "name the model to run, e.g. \"llama3.2\"");
            return default;
        }
        if (fields.InvalidStream)
        {
            error = HttpErrorMap.InvalidField("stream", "use true or false");
            return default;
        }
        if (fields.HasRequired && !Fits(fields.RequiredType, api.RequiredShape))
        {
            error = HttpErrorMap.InvalidField(api.RequiredField, $"send {api.RequiredWhat}");
            return default;
        }
        if (fields.InvalidField is not null)
        {
            error = fields.InvalidField;
            return default;
        }

        var empty = !fields.HasRequired || fields.RequiredEmpty;
        if (empty && api.WhenEmpty == EmptyRequired.ManagesModel && !fields.HasImages)
        {
            // Ollama answers a load or unload with one JSON object, whatever 'stream' says.
            error = null;
            return new RequestFields(model, false, null, fields.KeepAliveZero ? ModelLifecycle.Unload : ModelLifecycle.Load);
        }
        if (!fields.HasRequired && !fields.HasImages)
        {
            error = HttpErrorMap.MissingField(api.RequiredField, api.RequiredWhat);
            return default;
        }
        if (fields.RequiredEmpty && api.WhenEmpty == EmptyRequired.Rejected)
        {
            error = HttpErrorMap.InvalidField(api.RequiredField, $"it is empty; send {api.RequiredWhat}");
            return default;
        }

        error = null;
        var stream = fields.Stream ?? api.StreamsByDefault;
        // The answer length the client asked for, for the router's energy estimate.
        var expected = api.Flavor == ApiFlavor.OpenAI ? fields.MaxCompletionTokens ?? fields.MaxTokens : fields.NumPredict;
        return new RequestFields(model, stream && api.CanStream, expected);
    }

    private struct FieldScan
    {
        public string? Model;
        public bool HasRequired;
        public JsonTokenType RequiredType;
        public bool RequiredEmpty;
        public bool HasImages;
        public bool KeepAliveZero;
        public bool? Stream;
        public bool InvalidStream;
        /// <summary>The first token count or Ollama option of the wrong type.</summary>
        public HttpError? InvalidField;
        /// <summary>The first field the router reads whose string is not Unicode text.</summary>
        public HttpError? NotText;
        public int? MaxCompletionTokens;
        public int? MaxTokens;
        public int? NumPredict;
    }

    // The reader stands on the root object's start; leaves it on the root object's end.
    private static void ScanObject(ref Utf8JsonReader reader, RoutedApi api, ref FieldScan fields)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // Comparing a name decodes it, which throws on one that is not Unicode text.
            if (!JsonText.IsValidString(ref reader))
            {
                fields.NotText ??= HttpErrorMap.InvalidName(JsonText.Printable(ref reader));
                reader.Read();
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                fields.Model = null;
                if (reader.TokenType == JsonTokenType.String && !JsonText.TryGetString(ref reader, out fields.Model))
                {
                    fields.NotText ??= HttpErrorMap.InvalidText("model");
                }
            }
            else if (reader.ValueTextEquals(api.RequiredField))
            {
                reader.Read();
                fields.HasRequired = reader.TokenType != JsonTokenType.Null;
                fields.RequiredType = reader.TokenType;
                fields.RequiredEmpty = IsEmpty(in reader);
            }
            else if (api.WhenEmpty == EmptyRequired.ManagesModel && reader.ValueTextEquals("keep_alive"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && !JsonText.IsValidString(ref reader))
                {
                    fields.NotText ??= HttpErrorMap.InvalidText("keep_alive");
                }
                fields.KeepAliveZero = OllamaKeepAlive.IsZero(ref reader);
            }
            else if (api.WhenEmpty == EmptyRequired.ManagesModel && reader.ValueTextEquals("images"u8))
            {
                // A prompt-less request with images is a generation (describe the picture), not a load.
                reader.Read();
                fields.HasImages = reader.TokenType == JsonTokenType.StartArray && !IsEmpty(in reader);
            }
            else if (reader.ValueTextEquals("stream"u8))
            {
                reader.Read();
                fields.Stream = reader.TokenType switch
                {
                    JsonTokenType.True => true,
                    JsonTokenType.False => false,
                    _ => null,
                };
                fields.InvalidStream = reader.TokenType is not (JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null);
            }
            else if (api.Flavor == ApiFlavor.OpenAI && reader.ValueTextEquals("max_completion_tokens"u8))
            {
                reader.Read();
                fields.MaxCompletionTokens = TokenCount(ref reader, "max_completion_tokens", ref fields.InvalidField);
            }
            else if (api.Flavor == ApiFlavor.OpenAI && reader.ValueTextEquals("max_tokens"u8))
            {
                reader.Read();
                fields.MaxTokens = TokenCount(ref reader, "max_tokens", ref fields.InvalidField);
            }
            else if (api.Flavor != ApiFlavor.OpenAI && reader.ValueTextEquals("options"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    var optionError = OllamaOptions.Check(ref reader, out fields.NumPredict);
                    fields.InvalidField ??= optionError;
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    fields.InvalidField ??= HttpErrorMap.InvalidField("options", "use an object such as {\"num_predict\": 64}");
                }
            }
            else
            {
                reader.Read();
            }

            // Steps over the value's contents (a scalar needs none), checking them on the way.
            reader.Skip();
        }
    }

    // "" or []: the reader stands on the value; a copy looks one token ahead.
    private static bool IsEmpty(in Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String) return reader.ValueSpan.IsEmpty;
        if (reader.TokenType != JsonTokenType.StartArray) return false;
        var ahead = reader;
        return ahead.Read() && ahead.TokenType == JsonTokenType.EndArray;
    }

    /// <summary>
    /// An OpenAI token count: a positive one is returned (for the energy estimate); zero or less is
    /// the backend's to judge; anything but a whole number or null is invalid. The router reads it
    /// anyway, so its 400 names the field the same way whichever server the request would reach.
    /// </summary>
    private static int? TokenCount(ref Utf8JsonReader reader, string name, ref HttpError? invalid)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value))
        {
            return value > 0 ? value : null;
        }

        if (reader.TokenType != JsonTokenType.Null)
        {
            invalid ??= HttpErrorMap.InvalidField(name, "use a whole number of tokens");
        }

        return null;
    }

    private static bool Fits(JsonTokenType type, FieldShape shape) => shape switch
    {
        FieldShape.Text => type == JsonTokenType.String,
        FieldShape.Array => type == JsonTokenType.StartArray,
        _ => type is JsonTokenType.String or JsonTokenType.StartArray,
    };
}
