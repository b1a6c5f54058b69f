using System.Collections.Immutable;
using System.Text.Json;
using Router.Actors.Config;
using Router.Gateway.Http;
using Router.Tests.Http.Fakes;
using static Router.Tests.Http.HttpTestKit;

namespace Router.Tests.Http;

/// <summary>
/// Browsers may use the router only from this machine's pages or origins the user listed; any other
/// web site is refused before it can run a model or change the mode.
/// </summary>
public sealed class BrowserOriginsTests : IAsyncLifetime
{
    private readonly FakeInferenceRouter _router = new();
    private readonly FakeRouterAdmin _admin = new();
    private HttpSurfaceHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var config = new RouterConfig { Server = new ServerConfig { AllowedOrigins = ["https://chat.example", "chrome-extension://*"] } };
        _host = await HttpSurfaceHost.StartAsync(_router, _admin, config);
        _client = _host.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    [Theory]
    [InlineData("http://localhost:3000", true)]
    [InlineData("http://127.0.0.1", true)]
    [InlineData("HTTPS://LOCALHOST:8443", true)]
    [InlineData("tauri://localhost", true)]
    [InlineData("https://chat.example", true)]
    [InlineData("chrome-extension://abcdefghijklmnop", true)]
    [InlineData("https://chat.example.evil.test", false)]
    [InlineData("http://localhost.evil.test", false)]
    [InlineData("https://evil.test", false)]
    [InlineData("null", false)]
    // An origin is scheme://host[:port]; read as text, these looked like http://localhost:*.
    [InlineData("http://localhost:@evil.example", false)]
    [InlineData("http://localhost:3000@evil.example", false)]
    [InlineData("http://localhost:3000/", false)]
    [InlineData("http://localhost:3000/evil", false)]
    [InlineData("http://localhost:3000?x", false)]
    [InlineData("http://localhost:80", true)]          // the default port, as a browser would leave it out
    [InlineData("http://[::1]:5173", true)]
    public void Allows_LocalPagesAndListedOriginsOnly(string origin, bool allowed)
    {
        var origins = new BrowserOrigins(["https://chat.example", "chrome-extension://*"]);

        Assert.Equal(allowed, origins.Allows(origin));
    }

    [Fact]
    public void Star_AllowsEveryOrigin()
    {
        Assert.True(new BrowserOrigins(["*"]).Allows("https://anywhere.test"));
    }

    [Theory]
    [InlineData("http://192.168.1.*:*", "http://192.168.1.20:5173", true)]
    [InlineData("http://192.168.1.*:*", "http://192.168.2.20:5173", false)]
    [InlineData("http://localhost:*", "http://localhost", false)]
    public void Matches_StarsStandForAnyRun(string pattern, string origin, bool matches)
    {
        Assert.Equal(matches, BrowserOrigins.Matches(pattern, origin));
    }

    [Fact]
    public async Task OtherSite_Post_Refused403_AndNothingRouted()
    {
        using var response = await _client.SendAsync(Post("v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""", ("Origin", "https://evil.test")));

        Assert.Equal(403, (int)response.StatusCode);
        var error = (await JsonAsync(response)).GetProperty("error");
        Assert.Equal("origin_not_allowed", error.GetProperty("code").GetString());
        Assert.Contains("server.allowed-origins", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_router.Requests);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task OtherSite_CannotChangeTheMode()
    {
        using var response = await _client.SendAsync(Post("efficiency", """{"mode":"performance"}""", ("Origin", "https://evil.test")));

        Assert.Equal(403, (int)response.StatusCode);
        Assert.Empty(_admin.ModesSet);
    }

    [Fact]
    public async Task OtherSite_OllamaPath_RefusedInOllamaFormat()
    {
        using var response = await _client.SendAsync(Post("api/chat", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""", ("Origin", "https://evil.test")));

        Assert.Equal(403, (int)response.StatusCode);
        Assert.Equal(JsonValueKind.String, (await JsonAsync(response)).GetProperty("error").ValueKind);
    }

    [Theory]
    [InlineData("http://localhost:3000", "https://evil.test")]
    [InlineData("https://evil.test", "http://localhost:3000")]
    public async Task SeveralOriginHeaders_EachIsChecked(string first, string second)
    {
        using var request = Post("efficiency", """{"mode":"performance"}""");
        request.Headers.TryAddWithoutValidation("Origin", first);
        request.Headers.TryAddWithoutValidation("Origin", second);

        using var response = await _client.SendAsync(request);

        Assert.Equal(403, (int)response.StatusCode);
        Assert.Contains("https://evil.test", (await JsonAsync(response)).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_admin.ModesSet);
    }

    [Theory]
    [InlineData("http://localhost:3000, https://evil.test")]
    [InlineData("http://localhost:3000 https://evil.test")]
    public async Task OriginList_EachIsChecked(string origins)
    {
        using var response = await _client.SendAsync(Post("efficiency", """{"mode":"performance"}""", ("Origin", origins)));

        Assert.Equal(403, (int)response.StatusCode);
        Assert.Empty(_admin.ModesSet);
    }

    [Fact]
    public async Task OriginWithUserInfo_Refused()
    {
        using var response = await _client.SendAsync(Post("efficiency", """{"mode":"performance"}""", ("Origin", "http://localhost:@evil.example")));

        Assert.Equal(403, (int)response.StatusCode);
        Assert.Empty(_admin.ModesSet);
    }

    [Fact]
    public async Task ListedOrigin_Preflight_204WithWhatTheBrowserAsked()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "v1/chat/completions");
        request.Headers.Add("Origin", "https://chat.example");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type, x-priority");
        request.Headers.Add("Access-Control-Request-Private-Network", "true");

        using var response = await _client.SendAsync(request);

        Assert.Equal(204, (int)response.StatusCode);
        Assert.Equal("https://chat.example", Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("POST", Header(response, "Access-Control-Allow-Methods"), StringComparison.Ordinal);
        Assert.Equal("content-type, x-priority", Header(response, "Access-Control-Allow-Headers"));
        Assert.Equal("true", Header(response, "Access-Control-Allow-Private-Network"));
        Assert.Empty(_router.Requests);
    }

    [Fact]
    public async Task ListedOrigin_Post_AnsweredWithCorsHeadersAndRoutingHeadersExposed()
    {
        using var response = await _client.SendAsync(Post("v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""", ("Origin", "https://chat.example")));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("https://chat.example", Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("X-Backend-Used", Header(response, "Access-Control-Expose-Headers"), StringComparison.Ordinal);
        Assert.Single(_router.Requests);
    }

    [Fact]
    public async Task NoOrigin_SdkOrCurl_NoCorsHeaders()
    {
        using var response = await _client.SendAsync(Post("v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }
}
