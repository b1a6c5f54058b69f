using Router.Actors.Backends;

namespace Router.Gateway.Http;

/// <summary>One routed endpoint: the backend API it forwards to and what a valid body must hold.</summary>
/// <param name="RequiredField">The field besides <c>model</c> a body must have.</param>
/// <param name="RequiredWhat">What that field is, for the 400 that names it.</param>
/// <param name="StreamsByDefault">Whether an absent <c>stream</c> means streaming (Ollama: yes; OpenAI: no).</param>
/// <param name="CanStream">False for embeddings, which always answer in one piece.</param>
/// <param name="WhenEmpty">What an empty required field ("" or []) means.</param>
/// <param name="RequiredShape">The JSON the required field must be.</param>
internal sealed record RoutedApi(
    string Path,
    BackendApi Api,
    ApiFlavor Flavor,
    string RequiredField,
    string RequiredWhat,
    bool StreamsByDefault,
    bool CanStream,
    EmptyRequired WhenEmpty,
    FieldShape RequiredShape)
{
    public static readonly RoutedApi OpenAIChat = new("/v1/chat/completions", BackendApi.OpenAIChatCompletions, ApiFlavor.OpenAI, "messages", "the conversation as an array of messages", false, true, EmptyRequired.Rejected, FieldShape.Array);
    // A prompt may also be an array of texts or of token ids.
    public static readonly RoutedApi OpenAICompletions = new("/v1/completions", BackendApi.OpenAICompletions, ApiFlavor.OpenAI, "prompt", "the text to complete", false, true, EmptyRequired.Allowed, FieldShape.TextOrArray);
    public static readonly RoutedApi OpenAIEmbeddings = new("/v1/embeddings", BackendApi.OpenAIEmbeddings, ApiFlavor.OpenAI, "input", "the text (or array of texts) to embed", false, false, EmptyRequired.Rejected, FieldShape.TextOrArray);
    public static readonly RoutedApi OllamaChat = new("/api/chat", BackendApi.OllamaChat, ApiFlavor.Ollama, "messages", "the conversation as an array of messages", true, true, EmptyRequired.ManagesModel, FieldShape.Array);
    public static readonly RoutedApi OllamaGenerate = new("/api/generate", BackendApi.OllamaGenerate, ApiFlavor.Ollama, "prompt", "the text to continue", true, true, EmptyRequired.ManagesModel, FieldShape.Text);
    // Ollama answers an empty input with no embeddings (and loads the model): passed through.
    public static readonly RoutedApi OllamaEmbed = new("/api/embed", BackendApi.OllamaEmbed, ApiFlavor.Ollama, "input", "the text (or array of texts) to embed", false, false, EmptyRequired.Allowed, FieldShape.TextOrArray);
    public static readonly RoutedApi OllamaEmbeddings = new("/api/embeddings", BackendApi.OllamaEmbeddings, ApiFlavor.Ollama, "prompt", "the text to embed", false, false, EmptyRequired.Allowed, FieldShape.Text);

    public static readonly IReadOnlyList<RoutedApi> All =
        [OpenAIChat, OpenAICompletions, OpenAIEmbeddings, OllamaChat, OllamaGenerate, OllamaEmbed, OllamaEmbeddings];
}

/// <summary>What a request whose required field is empty ("" or []) asks for.</summary>
internal enum EmptyRequired
{
    /// <summary>Nothing special: the backend decides (OpenAI's legacy completions take an empty prompt).</summary>
    Allowed,
    /// <summary>A mistake, answered with a 400 naming the field (OpenAI rejects an empty conversation or input).</summary>
    Rejected,
    /// <summary>
    /// Ollama's model lifecycle: no prompt (or no messages) loads the model, and with
    /// <c>keep_alive: 0</c> unloads it (<c>ollama run</c> preloads this way; <c>ollama stop</c> unloads).
    /// An absent field means the same.
    /// </summary>
    ManagesModel,
}

/// <summary>The JSON a required field must be; anything else is answered with a 400 naming it.</summary>
internal enum FieldShape
{
    /// <summary>A string.</summary>
    Text,
    /// <summary>An array.</summary>
    Array,
    /// <summary>A string or an array.</summary>
    TextOrArray,
}

/// <summary>What a request does to the model besides (or instead of) generating.</summary>
internal enum ModelLifecycle
{
    /// <summary>An ordinary request.</summary>
    None,
    /// <summary>Load the model (routed like any request: it loads where the router would send work).</summary>
    Load,
    /// <summary>Unload the model from every backend that holds it.</summary>
    Unload,
}
