using System.Text.Json;

namespace Router.Gateway.Grpc.Services;

/// <summary>
/// Reads the answer out of a non-streaming backend body without knowing which API answered (the
/// router picks Native or OpenAI per backend and does not say which): OpenAI bodies
/// carry "choices" or "data", Ollama bodies "response", "message", "embeddings" or "embedding".
/// </summary>
internal static class AnswerReader
{
    public static string ReadText(ReadOnlyMemory<byte> body)
    {
        using var document = Parse(body);
        var root = document.RootElement;
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            var first = choices[0];
            if (first.TryGetProperty("message", out var message) && message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            {
                return content.GetString()!;
            }

            return first.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString()! : "";
        }

        if (root.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.String)
        {
            return response.GetString()!;
        }

        if (root.TryGetProperty("message", out var chat) && chat.ValueKind == JsonValueKind.Object
            && chat.TryGetProperty("content", out var chatContent) && chatContent.ValueKind == JsonValueKind.String)
        {
            return chatContent.GetString()!;
        }

        throw GrpcErrors.UnusableAnswer("The backend's answer has no text in it.");
    }

    public static float[] ReadEmbedding(ReadOnlyMemory<byte> body)
    {
        using var document = Parse(body);
        var root = document.RootElement;
        JsonElement vector = default;
        if (root.TryGetProperty("embeddings", out var embeddings) && embeddings.ValueKind == JsonValueKind.Array && embeddings.GetArrayLength() > 0)
        {
            vector = embeddings[0];
        }
        else if (root.TryGetProperty("embedding", out var embedding))
        {
            vector = embedding;
        }
        else if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array && data.GetArrayLength() > 0
                 && data[0].TryGetProperty("embedding", out var openAI))
        {
            vector = openAI;
        }

        if (vector.ValueKind != JsonValueKind.Array)
        {
            throw GrpcErrors.UnusableAnswer("The backend's answer has no embedding in it.");
        }

        var result = new float[vector.GetArrayLength()];
        var i = 0;
        foreach (var value in vector.EnumerateArray())
        {
            result[i++] = value.GetSingle();
        }

        return result;
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            throw GrpcErrors.UnusableAnswer("The backend's answer is not valid JSON.");
        }
    }
}
