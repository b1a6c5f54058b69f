using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Router.Actors.Config;
using Router.Gateway.Http;
using Router.Tests.Http.Fakes;
using static Router.Tests.Http.HttpTestKit;

namespace Router.Tests.Http;

/// <summary>
/// <c>server.api-keys</c>, <c>server.allowed-hosts</c>: with a key configured every endpoint wants
/// it, and a request for a name the router does not answer to is refused whatever it carries.
/// </summary>
public sealed class AccessControlTests : IAsyncLifetime
{
    private const string Key = "0123456789abcdef0123456789abcdef";
    private const string OtherKey = "fedcba9876543210fedcba9876543210";
    private static readonly TimeSpan ScriptLimit = TimeSpan.FromSeconds(90);

    private readonly FakeInferenceRouter _router = new();
    private readonly FakeRouterAdmin _admin = new();
    private HttpSurfaceHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var config = new RouterConfig
        {
            Server = new ServerConfig { ApiKeys = [OtherKey, Key], AllowedOrigins = ["https://chat.example"], AllowedHosts = ["router.lan", "*.example.com"] },
        };
        _host = await HttpSurfaceHost.StartAsync(_router, _admin, config);
        _client = _host.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private static HttpRequestMessage Request(string method, string path, string? key = null)
    {
        var request = method == "POST"
            ? Post(path, path.Contains("efficiency", StringComparison.Ordinal) ? """{"mode":"quiet"}""" : """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""")
            : new HttpRequestMessage(new HttpMethod(method), path);
        if (key is not null) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        return request;
    }

    public static TheoryData<string, string> Endpoints() => new()
    {
        { "GET", "health" }, { "GET", "backends" }, { "GET", "thermal" }, { "GET", "efficiency" }, { "GET", "actors" },
        { "POST", "efficiency" }, { "GET", "v1/models" }, { "POST", "v1/chat/completions" }, { "GET", "api/tags" },
        { "POST", "api/chat" }, { "GET", "api/version" }, { "GET", "" }, { "GET", "v1/stream/ws" }, { "GET", "no/such/path" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task NoKey_Every_Endpoint_401WithChallengeAndNothingDone(string method, string path)
    {
        using var response = await _client.SendAsync(Request(method, path));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        var error = (await JsonAsync(response)).GetProperty("error");
        var message = path.StartsWith("api/", StringComparison.Ordinal) ? error.GetString()! : error.GetProperty("message").GetString()!;
        Assert.Contains("Authorization: Bearer", message, StringComparison.Ordinal);
        if (!path.StartsWith("api/", StringComparison.Ordinal)) Assert.Equal("missing_api_key", error.GetProperty("code").GetString());
        Assert.Empty(_router.Requests);
        Assert.Empty(_admin.ModesSet);
    }

    [Theory]
    [InlineData("Bearer " + "0123456789abcdef0123456789abcdeX")]
    [InlineData("Bearer " + "0123456789abcdef")]
    [InlineData("Bearer")]
    [InlineData("Basic MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")]
    public async Task WrongKey_401InvalidToken(string authorization)
    {
        using var request = Request("GET", "backends");
        request.Headers.TryAddWithoutValidation("Authorization", authorization);

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal("invalid_api_key", (await JsonAsync(response)).GetProperty("error").GetProperty("code").GetString());
    }

    [Theory]
    [InlineData(Key)]
    [InlineData(OtherKey)]
    public async Task AnyConfiguredKey_Served(string key)
    {
        using var chat = await _client.SendAsync(Request("POST", "v1/chat/completions", key));
        using var mode = await _client.SendAsync(Request("POST", "efficiency", key));

        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal(HttpStatusCode.OK, mode.StatusCode);
        Assert.Single(_router.Requests);
    }

    [Fact]
    public async Task Preflight_FromAListedPage_AnsweredWithoutAKey()
    {
        // Browsers never send credentials with a preflight; the real request carries the key.
        using var request = new HttpRequestMessage(HttpMethod.Options, "v1/chat/completions");
        request.Headers.Add("Origin", "https://chat.example");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization, content-type");

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("authorization, content-type", Header(response, "Access-Control-Allow-Headers"));
    }

    [Fact]
    public async Task NoKey_FromAListedPage_The401IsReadableByThePage()
    {
        using var request = Request("GET", "backends");
        request.Headers.Add("Origin", "https://chat.example");

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("https://chat.example", Header(response, "Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("evil.example:8080")]
    [InlineData("localhost.evil.example")]
    [InlineData("router.lan.evil.example")]
    [InlineData("example.com")]
    public async Task OtherHostName_403EvenWithTheKey(string host)
    {
        using var request = Request("GET", "backends", Key);
        request.Headers.Host = host;

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = (await JsonAsync(response)).GetProperty("error");
        Assert.Equal("host_not_allowed", error.GetProperty("code").GetString());
        Assert.Contains("server.allowed-hosts", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("LOCALHOST:8080")]
    [InlineData("127.0.0.1:8080")]
    [InlineData("[::1]:8080")]
    [InlineData("192.168.1.5")]
    [InlineData("app.localhost:3000")]
    [InlineData("router.lan")]
    [InlineData("Router.LAN:8080")]
    [InlineData("gpu.example.com")]
    public async Task LocalOrListedHostName_Served(string host)
    {
        using var request = Request("GET", "backends", Key);
        request.Headers.Host = host;

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void HostNames_ThisMachinesName_Allowed()
    {
        var hosts = new HostNames([], machineName: "workstation");

        Assert.True(hosts.Allows("workstation"));
        Assert.True(hosts.Allows("WorkStation"));
        Assert.False(hosts.Allows("workstation.evil.example"));
    }

    private async Task<ClientWebSocket> ConnectAsync(Action<ClientWebSocketOptions> configure)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        configure(socket.Options);
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            await socket.ConnectAsync(_host.WebSocketUri(HttpSurfaces.StreamSocketPath), timeout.Token);
        }
        catch (WebSocketException)
        {
            // The handshake was refused; HttpStatusCode says how.
        }

        return socket;
    }

    [Fact]
    public async Task WebSocket_KeyInAHeaderOrAsASubprotocol_Opens()
    {
        using var withHeader = await ConnectAsync(o => o.SetRequestHeader("Authorization", "Bearer " + Key));
        using var withProtocol = await ConnectAsync(o =>
        {
            o.AddSubProtocol(ApiKeys.WebSocketProtocol);
            o.AddSubProtocol(ApiKeys.WebSocketKeyPrefix + Key);
        });

        Assert.Equal(WebSocketState.Open, withHeader.State);
        Assert.Equal(WebSocketState.Open, withProtocol.State);
        // The router's own name is selected, so the key does not come back.
        Assert.Equal(ApiKeys.WebSocketProtocol, withProtocol.SubProtocol);
    }

    [Fact]
    public async Task WebSocket_NoKeyOrWrongKey_HandshakeIs401()
    {
        using var without = await ConnectAsync(_ => { });
        using var wrong = await ConnectAsync(o =>
        {
            o.AddSubProtocol(ApiKeys.WebSocketProtocol);
            o.AddSubProtocol(ApiKeys.WebSocketKeyPrefix + "1" + OtherKey[1..]);
        });

        Assert.Equal(HttpStatusCode.Unauthorized, without.HttpStatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.HttpStatusCode);
        Assert.Empty(_router.Requests);
    }

    [Fact]
    public async Task OfficialClients_WithTheKey_AllChecksPass()
    {
        var outcome = await NodeScript.RunAsync("http-keys.mjs", _host.BaseAddress, ScriptLimit, Key);

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Equal(6, outcome.Output.Split('\n').Count(line => line.StartsWith("ok ", StringComparison.Ordinal)));
    }

    [Fact]
    public void IsKey_ExactMatchOnly()
    {
        var keys = new ApiKeys([Key, OtherKey]);

        Assert.True(keys.IsKey(Key));
        Assert.True(keys.IsKey(OtherKey));
        Assert.False(keys.IsKey(Key.ToUpperInvariant()));
        Assert.False(keys.IsKey(Key + "0"));
        Assert.False(keys.IsKey(Key[..^1]));
        Assert.False(keys.IsKey(""));
        Assert.False(new ApiKeys([]).Required);
    }
}
