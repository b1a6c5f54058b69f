namespace Router.Actors.Backends;

/// <summary>Where each API lives on a backend, relative to its base address.</summary>
internal static class BackendPaths
{
    public const string OllamaVersion = "api/version";
    public const string OllamaTags = "api/tags";
    public const string OllamaShow = "api/show";
    public const string OpenAIModels = "v1/models";

    public static string For(BackendApi api) => api switch
    {
        BackendApi.OllamaGenerate => "api/generate",
        BackendApi.OllamaChat => "api/chat",
        BackendApi.OllamaEmbed => "api/embed",
        BackendApi.OllamaEmbeddings => "api/embeddings",
        BackendApi.OpenAIChatCompletions => "v1/chat/completions",
        BackendApi.OpenAICompletions => "v1/completions",
        BackendApi.OpenAIEmbeddings => "v1/embeddings",
        _ => throw new ArgumentOutOfRangeException(nameof(api), api, null),
    };

    public static bool IsOpenAI(BackendApi api) =>
        api is BackendApi.OpenAIChatCompletions or BackendApi.OpenAICompletions or BackendApi.OpenAIEmbeddings;

    /// <summary>
    /// The base address requests are resolved against: the endpoint with a trailing slash, and without a
    /// trailing <c>/v1</c> (OpenAI-compatible servers are often configured as <c>http://host:8000/v1</c>;
    /// our paths carry <c>v1/</c> themselves).
    /// </summary>
    public static Uri BaseAddress(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        string path = endpoint.AbsolutePath.TrimEnd('/');
        if (path.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
        {
            path = path[..^3];
        }

        var builder = new UriBuilder(endpoint) { Path = path + "/", Query = "", Fragment = "" };
        return builder.Uri;
    }

    /// <summary>A caller's path (<c>/api/ps</c>) made relative to the base address.</summary>
    public static string Relative(string path) => path.TrimStart('/');
}
