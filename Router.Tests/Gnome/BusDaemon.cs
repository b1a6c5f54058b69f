using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Router.Tests.DBus;
using Router.Tests.EndToEnd;
using Router.Tests.TestKit;

namespace Router.Tests.Gnome;

/// <summary>
/// The daemon as a user runs it, <c>ollama-proxy --simulate</c>, in a process of its own on a
/// private session bus, where it owns ie.fio.OllamaProxy; with the addresses of its simulated
/// devices, to inject faults.
/// </summary>
internal sealed class BusDaemon : IAsyncDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(90);

    private readonly LineProcess _process;

    private BusDaemon(LineProcess process, Uri http, IReadOnlyDictionary<string, Uri> backends)
    {
        _process = process;
        Http = new HttpClient { BaseAddress = http, Timeout = TimeSpan.FromSeconds(30) };
        BackendEndpoints = backends;
    }

    public HttpClient Http { get; }

    /// <summary>Each backend's simulated device, by backend id.</summary>
    public IReadOnlyDictionary<string, Uri> BackendEndpoints { get; }

    public string Stderr => _process.Stderr;

    /// <param name="environment">Settings for this daemon (OLLAMA_PROXY_* overrides).</param>
    public static async Task<BusDaemon> StartAsync(PrivateBus bus, params (string Name, string Value)[] environment)
    {
        ArgumentNullException.ThrowIfNull(bus);
        var process = DaemonOnBus.Start(bus.Address, systemBus: null,
            ["--simulate", "--time-scale", "0.1", "--http-port", "0", "--grpc-port", "0"], environment);
        try
        {
            // "ollama-proxy listening: HTTP http://127.0.0.1:41234/  gRPC http://127.0.0.1:41235/  (simulated backends)"
            var listening = (await process.WaitForLineAsync("ollama-proxy listening:", StartLimit)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var backends = new Dictionary<string, Uri>(StringComparer.Ordinal);
            foreach (var _ in RealDaemon.BackendIds)
            {
                // "  backend ollama-npu       npu     http://127.0.0.1:40001/"
                var words = (await process.WaitForLineAsync("  backend ", StartLimit)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                backends[words[1]] = new Uri(words[3]);
            }

            return new BusDaemon(process, new Uri(listening[3]), backends);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>What GET /efficiency answers.</summary>
    public async Task<JsonElement> GetEfficiencyAsync()
    {
        using var document = JsonDocument.Parse(await Http.GetStringAsync(new Uri("/efficiency", UriKind.Relative)));
        return document.RootElement.Clone();
    }

    /// <summary>Sets the simulated machine (POST /simulation).</summary>
    public async Task SimulateAsync(object machine)
    {
        using var response = await Http.PostAsJsonAsync(new Uri("/simulation", UriKind.Relative), machine);
        Assert.True(response.IsSuccessStatusCode, $"POST /simulation: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Injects faults into a backend's simulated device (POST /sim/faults on the device).</summary>
    public async Task FaultAsync(string backendId, object faults)
    {
        using var response = await Http.PostAsJsonAsync(new Uri(BackendEndpoints[backendId], "/sim/faults"), faults);
        Assert.True(response.IsSuccessStatusCode, $"POST /sim/faults on {backendId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>A short chat completion sent to one backend; fails unless it is answered.</summary>
    public async Task ChatOnAsync(string backendId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/chat/completions", UriKind.Relative))
        {
            Content = JsonContent.Create(new { model = RealDaemon.ChatModels[0], messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 2 }),
        };
        request.Headers.Add("X-Target-Backend", backendId);
        using var response = await Http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"chat on {backendId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Stops the daemon as <c>systemctl --user stop</c> does (SIGTERM) and waits until it has exited.</summary>
    public async Task StopAsync()
    {
        var outcome = await ChildProcess.RunAsync(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]), StartLimit, "kill -TERM");
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        await _process.WaitForExitAsync(StartLimit);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _process.DisposeAsync();
    }
}
