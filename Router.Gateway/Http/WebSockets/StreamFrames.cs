using System.Text.Json;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Gateway.Http.WebSockets;

/// <summary>A request frame: what to generate, how, and the routing hints, as the client sent them.</summary>
internal sealed record StreamRequestFrame(
    string RequestId,
    string Model,
    string? Prompt,
    string? MessagesJson,
    string? OptionsJson,
    bool Stream,
    RoutingHints Hints)
{
    /// <summary>
    /// The backend request: the messages and Ollama options as the client wrote them, to Ollama
    /// unchanged and to OpenAI-compatible backends translated. The backend call always streams; a
    /// client that asked for stream=false gets one token frame.
    /// </summary>
    public InferenceRequest ToInferenceRequest() => GenerationRequestBuilder.Build(new GenerationInput(Model)
    {
        Prompt = Prompt,
        MessagesJson = MessagesJson,
        Options = new GenerationOptions { OllamaJson = OptionsJson },
        Stream = true,
    }, Hints);
}

/// <summary>What one incoming text frame asks for.</summary>
internal enum FrameKind
{
    /// <summary>Not a frame of this protocol: the socket closes with 1007.</summary>
    Malformed,
    Start,
    Cancel,
    /// <summary>A well-formed frame with a bad request in it: an error frame, the socket stays open.</summary>
    Invalid,
}

/// <summary>Reads the client's frames of <c>/v1/stream/ws</c>.</summary>
internal static class StreamFrames
{
    /// <summary>The fields of a request frame the router decodes (the rest it ignores).</summary>
    private static readonly string[] TextFields =
    [
        "model", "messages", "prompt", "options", "target", "media_type",
        "latency_critical", "power_efficient", "max_latency_ms", "max_power_watts", "priority",
    ];

    public readonly record struct Parsed(FrameKind Kind, string? RequestId, StreamRequestFrame? Request, HttpError? Error, string? Reason);

    public static Parsed Parse(ReadOnlyMemory<byte> json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException exception)
        {
            return Malformed("the frame is not valid JSON: " + exception.Message);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return Malformed("the frame must be a JSON object");
            // Looking a field up decodes the names it passes, which throws on one that is not
            // Unicode text: such a name is found first, and is the request's error once its id is known.
            string? badName = null;
            JsonElement id = default;
            foreach (var property in root.EnumerateObject())
            {
                if (!JsonText.TryGetName(property, out var name)) badName ??= JsonText.Printable(property);
                else if (name == "request_id") id = property.Value;
            }

            if (id.ValueKind != JsonValueKind.String
                || !JsonText.TryGetString(id, out var requestId) || requestId is null || !RoutingHintsParser.IsValidRequestId(requestId))
            {
                return Malformed($"every frame needs a request_id: a string of 1-{RoutingHeaders.MaxRequestIdLength} visible ASCII characters");
            }

            if (badName is not null) return Invalid(requestId, HttpErrorMap.InvalidName(badName));

            if (root.TryGetProperty("cancel", out var cancel) && cancel.ValueKind == JsonValueKind.True)
            {
                return new Parsed(FrameKind.Cancel, requestId, null, null, null);
            }

            // Every field read below is decoded to text: one that is not Unicode text is this
            // request's error, not the socket's (decoding it would throw).
            foreach (var field in TextFields)
            {
                if (root.TryGetProperty(field, out var value) && !JsonText.IsValid(value)) return Invalid(requestId, HttpErrorMap.InvalidText(field));
            }

            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 } modelName)
            {
                return Invalid(requestId, HttpErrorMap.MissingField("model", "name the model to run"));
            }

            string? prompt = null;
            string? messages = null;
            if (root.TryGetProperty("messages", out var messagesField) && messagesField.ValueKind != JsonValueKind.Null)
            {
                if (messagesField.ValueKind != JsonValueKind.Array) return Invalid(requestId, HttpErrorMap.InvalidField("messages", "use an array of {role, content} objects"));
                // An Ollama backend would take an empty conversation as "load the model" and answer
                // with no tokens at all; on this socket that is always a mistake.
                if (messagesField.GetArrayLength() == 0) return Invalid(requestId, HttpErrorMap.InvalidField("messages", "it is empty; send at least one {role, content} message"));
                messages = messagesField.GetRawText();
            }
            else if (root.TryGetProperty("prompt", out var promptField) && promptField.ValueKind == JsonValueKind.String)
            {
                prompt = promptField.GetString();
                if (prompt is not { Length: > 0 }) return Invalid(requestId, HttpErrorMap.InvalidField("prompt", "it is empty; send the text to complete"));
            }
            else
            {
                return Invalid(requestId, HttpErrorMap.MissingField("prompt", "send a prompt (text) or messages (a conversation)"));
            }

            string? options = null;
            if (root.TryGetProperty("options", out var optionsField) && optionsField.ValueKind != JsonValueKind.Null)
            {
                if (optionsField.ValueKind != JsonValueKind.Object) return Invalid(requestId, HttpErrorMap.InvalidField("options", "use an object such as {\"num_predict\": 64}"));
                options = optionsField.GetRawText();
                // They reach Ollama backends as they are; see OllamaOptions for why types are checked.
                if (OllamaOptions.Check(options) is { } optionError) return Invalid(requestId, optionError);
            }

            var stream = true;
            if (root.TryGetProperty("stream", out var streamField))
            {
                switch (streamField.ValueKind)
                {
                    case JsonValueKind.True: break;
                    case JsonValueKind.False: stream = false; break;
                    case JsonValueKind.Null: break;
                    default: return Invalid(requestId, HttpErrorMap.InvalidField("stream", "use true or false"));
                }
            }

            var hints = ReadHints(root, requestId, out var hintError);
            if (hintError is not null)
            {
                return Invalid(requestId, new HttpError(400, HttpErrorMap.InvalidRequest, "invalid_field", hintError.Message, hintError.Name));
            }
            return new Parsed(FrameKind.Start, requestId, new StreamRequestFrame(requestId, modelName, prompt, messages, options, stream, hints), null, null);
        }
    }

    /// <summary>The hint fields, with the same value rules as the X- headers.</summary>
    private static RoutingHints ReadHints(JsonElement root, string requestId, out HintError? error)
    {
        error = null;
        var hints = RoutingHints.Default with { RequestId = requestId };
        if (Text(root, "target") is { Length: > 0 } target) hints = hints with { Target = target };
        if (Text(root, "media_type") is { Length: > 0 } mediaType) hints = hints with { MediaType = mediaType };

        if (Text(root, "latency_critical") is { } latencyCritical)
        {
            if (!RoutingHintsParser.TryParseBool(latencyCritical, out var value)) return Fail("latency_critical", RoutingHintsParser.ValidBooleans, out error);
            hints = hints with { LatencyCritical = value };
        }
        if (Text(root, "power_efficient") is { } powerEfficient)
        {
            if (!RoutingHintsParser.TryParseBool(powerEfficient, out var value)) return Fail("power_efficient", RoutingHintsParser.ValidBooleans, out error);
            hints = hints with { PreferPowerEfficiency = value };
        }
        if (Text(root, "max_latency_ms") is { } maxLatency)
        {
            if (!RoutingHintsParser.TryParseMaxLatency(maxLatency, out var value)) return Fail("max_latency_ms", "a positive whole number of milliseconds", out error);
            hints = hints with { MaxLatencyMs = value };
        }
        if (Text(root, "max_power_watts") is { } maxPower)
        {
            if (!RoutingHintsParser.TryParseMaxPower(maxPower, out var value)) return Fail("max_power_watts", "a positive number of watts", out error);
            hints = hints with { MaxPowerWatts = value };
        }
        if (Text(root, "priority") is { } priority)
        {
            if (!RoutingHintsParser.TryParsePriority(priority, out Priority value)) return Fail("priority", RoutingHintsParser.ValidPriorities, out error);
            hints = hints with { Priority = value };
        }
        return hints;
    }

    /// <summary>A field as text whatever its JSON type (true, 1, "1" and "true" all read the same); null when absent.</summary>
    private static string? Text(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            JsonValueKind.String => value.GetString(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Number => value.GetRawText(),
            _ => value.GetRawText(),
        };
    }

    private static RoutingHints Fail(string field, string valid, out HintError error)
    {
        error = new HintError(field, $"{field} is invalid; use {valid}.");
        return RoutingHints.Default;
    }

    private static Parsed Malformed(string reason) => new(FrameKind.Malformed, null, null, null, reason);

    private static Parsed Invalid(string requestId, HttpError error) => new(FrameKind.Invalid, requestId, null, error, null);
}
