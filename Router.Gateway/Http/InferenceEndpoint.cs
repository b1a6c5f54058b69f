using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Gateway.Http;

/// <summary>
/// One routed endpoint (/v1/chat/completions, /api/generate …). The pipeline per request:
/// 1. read the body under the limit (413); 2. read the hint headers (400 naming the header);
/// 3. check the JSON and the fields the API needs (400 naming the field); 4. hand the body,
/// unchanged, to the router; 5. write the answer, or the failure in the caller's format.
/// </summary>
internal sealed partial class InferenceEndpoint
{
    private readonly RoutedApi _api;
    private readonly IInferenceRouter _router;
    private readonly long _bodyLimit;
    private readonly ILogger _logger;

    public InferenceEndpoint(RoutedApi api, IInferenceRouter router, long bodyLimit, ILogger logger)
    {
        _api = api;
        _router = router;
        _bodyLimit = bodyLimit;
        _logger = logger;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var body = await RequestBody.ReadAsync(context, _bodyLimit).ConfigureAwait(false);
        if (body is null)
        {
            await HttpErrorMap.BodyTooLarge(_bodyLimit).WriteAsync(context, _api.Flavor).ConfigureAwait(false);
            return;
        }

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

        var request = new InferenceRequest(fields.Model, hints, new BackendRequest(_api.Api, body, fields.Stream))
        {
            ExpectedTokens = fields.ExpectedTokens,
        };
        try
        {
            if (fields.Stream)
            {
                await StreamAsync(context, request).ConfigureAwait(false);
            }
            else
            {
                await SendAsync(context, request).ConfigureAwait(false);
            }
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

    private async Task SendAsync(HttpContext context, InferenceRequest request)
    {
        var sent = await _router.SendAsync(request, context.RequestAborted).ConfigureAwait(false);
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
        var mapped = HttpErrorMap.FromInference(error);
        Log.RequestFailed(_logger, request.Hints.RequestId, _api.Path, mapped.Status, mapped.Code, error.Message);
        return mapped.WriteAsync(context, _api.Flavor);
    }

    /// <summary>What the router needs from the body; the body itself is forwarded untouched.</summary>
    internal readonly record struct RequestFields(string Model, bool Stream, int? ExpectedTokens);

    internal static RequestFields ReadFields(ReadOnlyMemory<byte> body, RoutedApi api, out HttpError? error)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException exception)
        {
            error = HttpErrorMap.MalformedJson(exception.Message);
            return default;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = HttpErrorMap.MalformedJson("the body must be a JSON object.");
                return default;
            }
            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 } modelName)
            {
                error = HttpErrorMap.MissingField("model", "name the model to run, e.g. \"llama3.2\"");
                return default;
            }
            if (!root.TryGetProperty(api.RequiredField, out var required) || required.ValueKind is JsonValueKind.Null)
            {
                error = HttpErrorMap.MissingField(api.RequiredField, api.RequiredWhat);
                return default;
            }

            var stream = api.StreamsByDefault;
            if (root.TryGetProperty("stream", out var streamField))
            {
                switch (streamField.ValueKind)
                {
                    case JsonValueKind.True: stream = true; break;
                    case JsonValueKind.False: stream = false; break;
                    case JsonValueKind.Null: break;
                    default:
                        error = HttpErrorMap.InvalidField("stream", "use true or false");
                        return default;
                }
            }

            error = null;
            return new RequestFields(modelName, stream && api.CanStream, ExpectedTokens(root, api.Flavor));
        }
    }

    /// <summary>The answer length the client asked for, for the router's energy estimate.</summary>
    private static int? ExpectedTokens(JsonElement root, ApiFlavor flavor)
    {
        if (flavor == ApiFlavor.OpenAI)
        {
            return PositiveInt(root, "max_completion_tokens") ?? PositiveInt(root, "max_tokens");
        }
        return root.TryGetProperty("options", out var options) && options.ValueKind == JsonValueKind.Object
            ? PositiveInt(options, "num_predict")
            : null;
    }

    private static int? PositiveInt(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
        && value.TryGetInt32(out var tokens) && tokens > 0 ? tokens : null;
}
