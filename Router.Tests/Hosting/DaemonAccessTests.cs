using System.Net;
using System.Net.Http.Headers;
using Router.Actors.Config;
using Router.Gateway.Hosting;
using Router.Tests.EndToEnd;

namespace Router.Tests.Hosting;

/// <summary>
/// The daemon with <c>server.api-keys</c> set: the endpoints only it maps want the key too, and its
/// gRPC port answers a call without one with UNAUTHENTICATED, checked here on the wire (HTTP/2,
/// as any gRPC client sends it) so the check holds whatever serves the calls behind it.
/// </summary>
public sealed class DaemonAccessTests : IAsyncLifetime
{
    private const string Key = "0123456789abcdef0123456789abcdef";
    private RouterHost _host = null!;
    private HttpClient _grpc = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var config = ConfigLoader.LoadDefault(new Dictionary<string, string> { ["OLLAMA_PROXY_API_KEYS"] = Key });
        _host = await RouterHost.StartAsync(config, new RouterHostOptions
        {
            Simulate = true,
            SimulationTimeScale = 0,
            HttpPort = 0,
            GrpcPort = 0,
            ConsoleLogging = false,
        });
        _http = new HttpClient { BaseAddress = _host.HttpEndpoint, Timeout = TimeSpan.FromSeconds(20) };
        _grpc = new HttpClient
        {
            BaseAddress = _host.GrpcEndpoint,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(20),
        };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        _grpc.Dispose();
        await _host.DisposeAsync();
    }

    /// <summary>grpc.health.v1.Health/Check with an empty request: one frame, uncompressed, length 0.</summary>
    private async Task<(HttpResponseMessage Response, string? Status, string? Message)> HealthCheckAsync(string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/grpc.health.v1.Health/Check")
        {
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (authorization is not null) request.Headers.TryAddWithoutValidation("authorization", authorization);
        var response = await _grpc.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        static string? Get(HttpHeaders headers, string name) => headers.TryGetValues(name, out var values) ? values.Single() : null;
        var status = Get(response.Headers, "grpc-status") ?? Get(response.TrailingHeaders, "grpc-status");
        var message = Get(response.Headers, "grpc-message") ?? Get(response.TrailingHeaders, "grpc-message");
        return (response, status, message is null ? null : Uri.UnescapeDataString(message));
    }

    [Theory]
    [InlineData(null, "authorization: Bearer <key>")]
    [InlineData("Bearer fedcba9876543210fedcba9876543210", "not valid")]
    public async Task Grpc_NoOrWrongKey_TrailersOnlyUnauthenticated(string? authorization, string says)
    {
        var (response, status, message) = await HealthCheckAsync(authorization);
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("16", status);
            Assert.Contains(says, message, StringComparison.Ordinal);
            Assert.Contains("server.api-keys", message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Grpc_WithTheKey_Served()
    {
        var (response, status, _) = await HealthCheckAsync("Bearer " + Key);
        using (response)
        {
            Assert.Equal("0", status);
        }
    }

    [Theory]
    [InlineData("/metrics")]
    [InlineData("/explain?model=llama3.2:1b")]
    [InlineData("/simulation")]
    public async Task DaemonEndpoints_WantTheKey(string path)
    {
        using var without = await _http.GetAsync(new Uri(path, UriKind.Relative));
        using var with = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        with.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using var answered = await _http.SendAsync(with);

        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
    }

    [Fact]
    public async Task Metrics_OtherHostName_403()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/metrics", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        request.Headers.Host = "rebound.evil.example";

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private static readonly TimeSpan CliLimit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Cli_KeyFromTheOptionOrTheEnvironment_Served()
    {
        var withOption = await CliProcess.RunAsync(CliLimit, _host.HttpEndpoint, "status", "--api-key", Key);
        var fromEnvironment = await CliProcess.RunAsync(CliLimit, _host.HttpEndpoint, new Dictionary<string, string> { ["OLLAMA_PROXY_API_KEY"] = Key }, "backends");

        Assert.True(withOption.ExitCode == 0, withOption.ToString());
        Assert.Contains("status:", withOption.Output, StringComparison.Ordinal);
        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.ToString());
        Assert.Contains("ollama-npu", fromEnvironment.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_NoKey_ExitCode3SayingHowToPassOne()
    {
        var outcome = await CliProcess.RunAsync(CliLimit, _host.HttpEndpoint, "mode", "quiet");

        Assert.True(outcome.ExitCode == 3, outcome.ToString());
        Assert.Contains("--api-key", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("OLLAMA_PROXY_API_KEY", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Daemon_BeyondLoopbackWithoutKeys_ExitCode2SayingHowToFixIt()
    {
        var dir = Directory.CreateTempSubdirectory("ollama-proxy-keys-");
        try
        {
            var file = Path.Combine(dir.FullName, "exposed.conf");
            await File.WriteAllTextAsync(file, "server {\n  host = \"0.0.0.0\"\n}\n");

            var outcome = await CliProcess.RunAsync(CliLimit, "--config", file, "--simulate", "--time-scale", "0", "--http-port", "0", "--grpc-port", "0");

            Assert.True(outcome.ExitCode == 2, outcome.ToString());
            Assert.Contains("exposed.conf:2", outcome.Errors, StringComparison.Ordinal);
            Assert.Contains("server.api-keys", outcome.Errors, StringComparison.Ordinal);
            Assert.Contains("server.insecure = true", outcome.Errors, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
