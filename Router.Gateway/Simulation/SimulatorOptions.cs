namespace Router.Gateway.Simulation;

/// <summary>Settings of one simulated backend.</summary>
public sealed record SimulatorOptions
{
    /// <summary>
    /// Multiplies every simulated delay: 1.0 is real time, 0.01 a hundred times faster, 0 no think time
    /// at all (benchmarks and fast tests). Reported durations (Ollama's <c>eval_duration</c> …) are always
    /// the device's unscaled values, so stats look like the real device.
    /// </summary>
    public double TimeScale { get; init; } = 1.0;

    /// <summary>Loopback port; 0 picks a free one (read it from <see cref="SimulatedBackend.Endpoint"/>).</summary>
    public int Port { get; init; }

    /// <summary>The context Ollama gives a model when the request does not set <c>num_ctx</c>.</summary>
    public const int OllamaDefaultContextLength = 4096;

    /// <summary>Answer length when the request sets neither num_predict nor max_tokens.</summary>
    public int DefaultMaxTokens { get; init; } = 24;

    /// <summary>
    /// The context (prompt and answer, in tokens) of a request that sets no <c>num_ctx</c>, capped
    /// at what the model was trained for (<see cref="ModelCatalog.TrainedContextLength"/>). An
    /// answer ends when the context is full, whatever length was asked for, as on Ollama.
    /// </summary>
    public int DefaultContextLength { get; init; } = OllamaDefaultContextLength;

    /// <summary>Embedding size (OpenAI's <c>dimensions</c> overrides it per request).</summary>
    public int EmbeddingDimensions { get; init; } = 768;

    /// <summary>What <c>/api/version</c> answers.</summary>
    public string Version { get; init; } = "0.12.0";

    /// <summary>Clock of the simulated delays and the thermal model.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
