using Router.Actors.Config;

namespace Router.Actors.Backends;

/// <summary>Creates the client for a configured backend from its <see cref="BackendConfig.Type"/>.</summary>
public static class BackendClientFactory
{
    public const string OllamaType = "ollama";
    public const string OpenAIType = "openai";

    /// <summary>
    /// <c>ollama</c> → <see cref="OllamaClient"/>; <c>openai</c> (also <c>openai-compatible</c>,
    /// <c>llamacpp</c>, <c>vllm</c>, <c>lmstudio</c>) → <see cref="OpenAICompatibleClient"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The type is unknown (the config loader validates it first).</exception>
    public static IBackendClient Create(BackendConfig config, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Type.ToUpperInvariant() switch
        {
            "OLLAMA" or "" => new OllamaClient(config, timeProvider),
            "OPENAI" or "OPENAI-COMPATIBLE" or "LLAMACPP" or "LLAMA.CPP" or "VLLM" or "LMSTUDIO" => new OpenAICompatibleClient(config, timeProvider),
            _ => throw new ArgumentException($"backends '{config.Id}': unknown type \"{config.Type}\"; expected \"ollama\" or \"openai\".", nameof(config)),
        };
    }

    /// <summary>Whether <see cref="Create"/> knows <paramref name="type"/>, for config validation.</summary>
    public static bool IsKnownType(string type) => type.ToUpperInvariant() is "OLLAMA" or "" or "OPENAI" or "OPENAI-COMPATIBLE"
        or "LLAMACPP" or "LLAMA.CPP" or "VLLM" or "LMSTUDIO";
}
