using System.Collections.Immutable;
using System.Text;
using System.Threading.Channels;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Gateway.Simulation;

namespace Router.Tests.Backends;

/// <summary>Shared set-up for client tests: a simulator with no think time and a client pointed at it.</summary>
internal static class BackendTestKit
{
    /// <summary>Upper bound for any wait in these tests; reaching it is a failure, not a pass.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static Task<SimulatedBackend> StartSimulatorAsync(double timeScale = 0, int embeddingDimensions = 8) =>
        SimulatedBackend.StartAsync(DeviceProfile.Nvidia, new SimulatorOptions { TimeScale = timeScale, EmbeddingDimensions = embeddingDimensions });

    public static BackendConfig Config(Uri endpoint, string type = "ollama", BackendTimeouts? timeouts = null) => new()
    {
        Id = "sim-" + type,
        Type = type,
        Endpoint = endpoint,
        Timeouts = timeouts ?? new BackendTimeouts { Connect = TimeSpan.FromSeconds(5), FirstByte = TimeSpan.FromSeconds(10), Idle = TimeSpan.FromSeconds(10) },
    };

    public static BackendRequest Json(BackendApi api, string json, bool stream) => new(api, Encoding.UTF8.GetBytes(json), stream);

    public static async Task<List<StreamEvent>> ReadAllAsync(ChannelReader<StreamEvent> reader)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var events = new List<StreamEvent>();
        await foreach (StreamEvent e in reader.ReadAllAsync(timeout.Token))
        {
            events.Add(e);
        }

        return events;
    }

    public static string Text(IEnumerable<StreamEvent> events) =>
        string.Concat(events.OfType<StreamChunk>().Select(c => c.Text));

    public static CancellationToken Timeout() => new CancellationTokenSource(Patience).Token;

    public static string[] Names(ImmutableArray<BackendModel> models) => models.Select(m => m.Name).ToArray();
}
