using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Router.Tests.Http;

/// <summary>Small helpers shared by the HTTP surface tests.</summary>
internal static class HttpTestKit
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    public static HttpRequestMessage Post(string path, string json, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values)
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? string.Join(",", contentValues)
        : null;

    public static MediaTypeHeaderValue? ContentType(HttpResponseMessage response) => response.Content.Headers.ContentType;

    /// <summary>Reads the next SSE data payload (skipping blank lines), or null at the end of the body.</summary>
    public static async Task<string?> NextSseDataAsync(StreamReader reader)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Length == 0) continue;
            Assert.StartsWith("data: ", line, StringComparison.Ordinal);
            var blank = await reader.ReadLineAsync(timeout.Token);
            Assert.Equal("", blank);
            return line["data: ".Length..];
        }
        return null;
    }

    /// <summary>Reads the next NDJSON line, or null at the end of the body.</summary>
    public static async Task<string?> NextLineAsync(StreamReader reader)
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await reader.ReadLineAsync(timeout.Token);
    }
}
