using Router.Actors.Backends;

namespace Router.Gateway.Http;

/// <summary>One routed endpoint: the backend API it forwards to and what a valid body must hold.</summary>
/// <param name="RequiredField">The field besides <c>model</c> a body must have.</param>
/// <param name="RequiredWhat">What that field is, for the 400 that names it.</param>
/// <param name="StreamsByDefault">Whether an absent <c>stream</c> means streaming (Ollama: yes; OpenAI: no).</param>
/// <param name="CanStream">False for embeddings, which always answer in one piece.</param>
internal sealed record RoutedApi(
    string Path,
    BackendApi Api,
    ApiFlavor Flavor,
    string RequiredField,
    string RequiredWhat,
    bool StreamsByDefault,
    bool CanStream)
{
    public static readonly RoutedApi OpenAIChat = new("/v1/chat/completions", BackendApi.OpenAIChatCompletions, ApiFlavor.OpenAI, "messages", "the conversation as an array of messages", false, true);
    public static readonly RoutedApi OpenAICompletions = new("/v1/completions", BackendApi.OpenAICompletions, ApiFlavor.OpenAI, "prompt", "the text to complete", false, true);
    public static readonly RoutedApi OpenAIEmbeddings = new("/v1/embeddings", BackendApi.OpenAIEmbeddings, ApiFlavor.OpenAI, "input", "the text (or array of texts) to embed", false, false);
    public static readonly RoutedApi OllamaChat = new("/api/chat", BackendApi.OllamaChat, ApiFlavor.Ollama, "messages", "the conversation as an array of messages", true, true);
    public static readonly RoutedApi OllamaGenerate = new("/api/generate", BackendApi.OllamaGenerate, ApiFlavor.Ollama, "prompt", "the text to continue", true, true);
    public static readonly RoutedApi OllamaEmbed = new("/api/embed", BackendApi.OllamaEmbed, ApiFlavor.Ollama, "input", "the text (or array of texts) to embed", false, false);
    public static readonly RoutedApi OllamaEmbeddings = new("/api/embeddings", BackendApi.OllamaEmbeddings, ApiFlavor.Ollama, "prompt", "the text to embed", false, false);

    public static readonly IReadOnlyList<RoutedApi> All =
        [OpenAIChat, OpenAICompletions, OpenAIEmbeddings, OllamaChat, OllamaGenerate, OllamaEmbed, OllamaEmbeddings];
}
