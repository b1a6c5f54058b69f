namespace Router.Gateway.Simulation;

/// <summary>
/// Deterministic text and vectors: the same model and prompt always give the same tokens and the same
/// embedding, so tests and benchmarks can compare runs.
/// </summary>
internal struct TextSynthesizer
{
    private static readonly string[] Words =
    [
        "the", "router", "sends", "each", "request", "to", "a", "device", "that", "fits", "its", "budget",
        "while", "tokens", "stream", "back", "with", "low", "latency", "and", "power", "stays", "within",
        "limits", "so", "battery", "lasts", "longer", "when", "fans", "are", "quiet", "model", "answers",
        "quickly", "on", "npu", "gpu", "cpu", "heat", "rises", "falls", "idle", "busy", "queue", "priority",
        "critical", "normal", "best", "effort", "energy", "per", "token", "is", "measured", "in", "watt",
        "hours", "for", "every", "call", "simulated", "text", "here",
    ];

    private ulong _state;

    public TextSynthesizer(string model, string prompt)
    {
        _state = Seed(model, prompt);
    }

    /// <summary>The next token: a word, with a leading space after the first.</summary>
    public string NextToken(int index)
    {
        string word = Words[(int)(Next() % (ulong)Words.Length)];
        return index == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : " " + word;
    }

    /// <summary>A unit-length vector of <paramref name="dimensions"/> values.</summary>
    public float[] Embedding(int dimensions)
    {
        var vector = new float[dimensions];
        double sum = 0;
        for (int i = 0; i < vector.Length; i++)
        {
            double value = (Next() >> 11) * (1.0 / (1UL << 53)) * 2 - 1;
            vector[i] = (float)value;
            sum += value * value;
        }

        float norm = sum > 0 ? (float)(1 / Math.Sqrt(sum)) : 1;
        for (int i = 0; i < vector.Length; i++)
        {
            vector[i] *= norm;
        }

        return vector;
    }

    /// <summary>Prompt size in tokens, roughly: words plus a template overhead.</summary>
    public static int CountTokens(string text)
    {
        int words = 0;
        bool inWord = false;
        foreach (char c in text)
        {
            bool letter = !char.IsWhiteSpace(c);
            if (letter && !inWord)
            {
                words++;
            }

            inWord = letter;
        }

        return words + 4;
    }

    // xorshift64*: small, fast, and good enough for filler text.
    private ulong Next()
    {
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        return _state * 0x2545F4914F6CDD1DUL;
    }

    // FNV-1a over model, a separator, and prompt; never zero (xorshift's fixed point).
    private static ulong Seed(string model, string prompt)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in model)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        hash = (hash ^ 0xFFFF) * 1099511628211UL;
        foreach (char c in prompt)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash == 0 ? 0x9E3779B97F4A7C15UL : hash;
    }
}
