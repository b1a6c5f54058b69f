using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Router.Gateway.Hosting;
using Router.Tests.TestKit;
using Xunit.Abstractions;

namespace Router.Tests.EndToEnd;

/// <summary>
/// Three daemons as users run them (<c>ollama-proxy --simulate</c>, each with its own simulated
/// devices), on loopback ports, forming one fleet. Node A keeps only its CPU; B and C have all
/// four devices. The failure detector and the split-brain resolver run with test timings
/// (heartbeats every 200 ms, 2 s of silence, decisions after 1 s of stability), set through the
/// environment as a user would set them in cluster { }.
/// </summary>
/// <remarks>
/// The partition is made with SIGSTOP: the stopped daemon holds its sockets open but answers
/// nothing, so its peers' failure detectors see exactly what a cut network shows them, with no
/// dependence on firewall rules or Akka's test transports. SIGCONT then lets it find out that the
/// fleet has downed it.
/// </remarks>
public sealed partial class FleetProcessTests(ITestOutputHelper output)
{
    private const string Secret = "fleet-test-secret-0123456789";
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan FleetLimit = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task ThreeNodes_ForwardFailOverRejoinAndSplitBrain()
    {
        await using var a = await FleetNode.StartAsync("node-a", seed: null, ("OLLAMA_PROXY_BACKENDS_OLLAMA_NPU_ENABLED", "false"),
            ("OLLAMA_PROXY_BACKENDS_OLLAMA_IGPU_ENABLED", "false"), ("OLLAMA_PROXY_BACKENDS_OLLAMA_NVIDIA_ENABLED", "false"));
        var seed = await a.ClusterAddressAsync();
        await using var c = await FleetNode.StartAsync("node-c", seed);
        var b = await FleetNode.StartAsync("node-b", seed);
        try
        {
            await a.WaitForBackendsAsync("node-b", present: true);
            await a.WaitForBackendsAsync("node-c", present: true);

            output.WriteLine("1.");
            // 1. A's own device is over the request's power budget: a fleet peer's device serves it, and the headers say which.
            using (var answer = await a.PostAsync("/api/generate", """{"model":"llama3.2:1b","prompt":"hi","stream":false,"options":{"num_predict":2}}""",
                ("X-Max-Power-Watts", "15")))
            {
                var body = await answer.Content.ReadAsStringAsync();
                Assert.True(answer.IsSuccessStatusCode, body);
                var node = Header(answer, "X-Backend-Node");
                Assert.True(node is "node-b" or "node-c", $"X-Backend-Node '{node}', X-Backend-Used '{Header(answer, "X-Backend-Used")}': {body}");
                Assert.StartsWith(node + "/ollama-", Header(answer, "X-Backend-Used"), StringComparison.Ordinal);
                Assert.Contains("\"done\":true", body, StringComparison.Ordinal);
            }

            // node/backend names one device of one node.
            using (var answer = await a.PostAsync("/v1/chat/completions", """{"model":"llama3.2:1b","messages":[{"role":"user","content":"hi"}],"max_tokens":2}""",
                ("X-Target-Backend", "node-c/ollama-npu")))
            {
                Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
                Assert.Equal("node-c/ollama-npu", Header(answer, "X-Backend-Used"));
                Assert.Equal("node-c", Header(answer, "X-Backend-Node"));
            }

            // A peer refuses a forwarded request without the fleet's secret, or with another one.
            using (var bare = await b.PostAsync("/api/generate", """{"model":"llama3.2:1b","prompt":"hi"}""", ("X-Ollama-Proxy-Hop", "1")))
            {
                Assert.Equal(401, (int)bare.StatusCode);
                Assert.Contains("X-Ollama-Proxy-Secret", await bare.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            using (var wrong = await b.PostAsync("/api/generate", """{"model":"llama3.2:1b","prompt":"hi"}""", ("X-Ollama-Proxy-Hop", "1"), ("X-Ollama-Proxy-Secret", "guess-guess-guess-guess")))
            {
                Assert.Equal(403, (int)wrong.StatusCode);
            }

            output.WriteLine("2.");
            // The CLI shows the fleet: its members, and the other nodes' backends by node/backend.
            var cluster = await CliProcess.RunAsync(StartLimit, a.Http.BaseAddress, "cluster");
            Assert.True(cluster.ExitCode == 0, cluster.ToString());
            foreach (var node in new[] { "node-a *", "node-b", "node-c" })
            {
                Assert.Contains(cluster.Output.Split('\n'), line => line.StartsWith(node, StringComparison.Ordinal) && line.Contains(" up ", StringComparison.Ordinal));
            }

            var listed = await CliProcess.RunAsync(StartLimit, a.Http.BaseAddress, "backends");
            Assert.True(listed.ExitCode == 0, listed.ToString());
            Assert.Contains(listed.Output.Split('\n'), line => line.StartsWith("node-c/ollama-nvidia ", StringComparison.Ordinal) && line.Contains("healthy", StringComparison.Ordinal));

            // 2. B dies in the middle of a stream A forwarded to it: the stream ends with the documented error, nothing hangs.
            using (var stream = await a.StartStreamAsync("""{"model":"llama3.2:1b","prompt":"a long story","stream":true,"options":{"num_predict":100000}}""", "node-b/ollama-cpu"))
            {
                Assert.Equal("node-b/ollama-cpu", Header(stream.Response, "X-Backend-Used"));
                Assert.Contains("\"response\"", await stream.Reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)), StringComparison.Ordinal);
                var killed = Stopwatch.StartNew();
                await b.DisposeAsync();
                var rest = await stream.Reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(20));
                var last = rest.TrimEnd().Split('\n')[^1];
                Assert.Contains("\"error\"", last, StringComparison.Ordinal);
                Assert.Contains("node-b/ollama-cpu", last, StringComparison.Ordinal);

                // A request started now, before the failure detector has spoken, still gets an answer: if it
                // is sent to B first, it fails before its first token and falls over to C's device.
                using (var fallback = await a.PostAsync("/api/generate", """{"model":"llama3.2:1b","prompt":"hi","stream":false,"options":{"num_predict":2}}""",
                    ("X-Target-Backend", "nvidia")))
                {
                    Assert.True(fallback.IsSuccessStatusCode, await fallback.Content.ReadAsStringAsync());
                    Assert.Equal("node-c/ollama-nvidia", Header(fallback, "X-Backend-Used"));
                }

                await a.WaitForBackendsAsync("node-b", present: false);
                output.WriteLine($"node B's devices left A's routing {killed.ElapsedMilliseconds} ms after it was killed");
            }

            output.WriteLine("3.");
            // 3. B comes back (a new process, the same name): its devices come back.
            b = await FleetNode.StartAsync("node-b", seed);
            await a.WaitForBackendsAsync("node-b", present: true);
            using (var answer = await a.PostAsync("/api/generate", """{"model":"llama3.2:1b","prompt":"hi","stream":false,"options":{"num_predict":2}}""",
                ("X-Target-Backend", "node-b/ollama-npu")))
            {
                Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
                Assert.Equal("node-b/ollama-npu", Header(answer, "X-Backend-Used"));
            }

            output.WriteLine("4.");
            // 4. C is cut off: A and B (the majority) down it and keep serving.
            c.Signal("STOP");
            try
            {
                await a.WaitForMemberGoneAsync("node-c");
                await b.WaitForMemberGoneAsync("node-c");
                await a.WaitForBackendsAsync("node-c", present: false);
                using var answer = await a.PostAsync("/api/generate", """{"model":"llama3.2:1b","prompt":"hi","stream":false,"options":{"num_predict":2}}""",
                    ("X-Target-Backend", "npu"));
                Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
                Assert.Equal("node-b/ollama-npu", Header(answer, "X-Backend-Used"));
            }
            finally
            {
                c.Signal("CONT");
            }

            output.WriteLine("The downed node notices");
            // The downed node notices, starts its fleet system afresh and joins again by itself.
            await a.WaitForBackendsAsync("node-c", present: true);
            using var rejoined = JsonDocument.Parse(await c.Http.GetStringAsync("/cluster"));
            Assert.Equal("up", rejoined.RootElement.GetProperty("state").GetString());
        }
        finally
        {
            await b.DisposeAsync();
        }
    }

    [Fact]
    public async Task BeyondLoopbackWithoutTls_RefusesToStart_ExitCode2()
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory };
        foreach (var arg in new[] { CliProcess.GatewayDll, "--simulate", "--http-port", "0", "--grpc-port", "0" })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("OLLAMA_PROXY_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["OLLAMA_PROXY_SERVER_HOST"] = "0.0.0.0";
        start.Environment["OLLAMA_PROXY_CLUSTER_ENABLED"] = "true";
        start.Environment["OLLAMA_PROXY_CLUSTER_SHARED_SECRET"] = Secret;
        start.Environment["OLLAMA_PROXY_CLUSTER_HOSTNAME"] = "0.0.0.0";

        var outcome = await ChildProcess.RunAsync(start, StartLimit, "ollama-proxy with the fleet on 0.0.0.0 and no TLS");

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("cluster.hostname: remoting would listen on 0.0.0.0, beyond this machine, without TLS", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("cluster.insecure = true", outcome.Errors, StringComparison.Ordinal);
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";

    /// <summary>One daemon of the fleet, as a process.</summary>
    private sealed class FleetNode : IAsyncDisposable
    {
        private readonly LineProcess _process;
        private bool _disposed;

        private FleetNode(string name, LineProcess process, Uri endpoint)
        {
            Name = name;
            _process = process;
            Http = new HttpClient { BaseAddress = endpoint, Timeout = TimeSpan.FromSeconds(30) };
        }

        public string Name { get; }

        public HttpClient Http { get; }

        public static Task<FleetNode> StartAsync(string name, string? seed, params (string Name, string Value)[] environment) =>
            StartAsync(name, seed, untilUp: true, environment);

        /// <param name="untilUp">Whether to wait until the node is up in the fleet, or only until its HTTP API listens.</param>
        public static async Task<FleetNode> StartAsync(string name, string? seed, bool untilUp, params (string Name, string Value)[] environment)
        {
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory };
            foreach (var arg in new[] { CliProcess.GatewayDll, "--simulate", "--time-scale", "0.1", "--http-port", "0", "--grpc-port", "0" })
            {
                start.ArgumentList.Add(arg);
            }

            foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("OLLAMA_PROXY_", StringComparison.Ordinal)).ToList())
            {
                start.Environment.Remove(key);
            }

            start.Environment.Remove("OLLAMA_ORIGINS");
            start.Environment.Remove(InlineSocketCompletions.Variable);
            start.Environment["OLLAMA_PROXY_CLUSTER_ENABLED"] = "true";
            start.Environment["OLLAMA_PROXY_CLUSTER_NODE_NAME"] = name;
            start.Environment["OLLAMA_PROXY_CLUSTER_PORT"] = "0";
            start.Environment["OLLAMA_PROXY_CLUSTER_SHARED_SECRET"] = Secret;
            start.Environment["OLLAMA_PROXY_CLUSTER_FAILURE_DETECTOR_HEARTBEAT_INTERVAL"] = "200ms";
            start.Environment["OLLAMA_PROXY_CLUSTER_FAILURE_DETECTOR_ACCEPTABLE_HEARTBEAT_PAUSE"] = "2s";
            start.Environment["OLLAMA_PROXY_CLUSTER_SPLIT_BRAIN_RESOLVER_STABLE_AFTER"] = "1s";
            start.Environment["OLLAMA_PROXY_CLUSTER_PUBLISH_INTERVAL"] = "500ms";
            start.Environment["OLLAMA_PROXY_CLUSTER_ROUND_TRIP_INTERVAL"] = "500ms";
            start.Environment["OLLAMA_PROXY_CLUSTER_REJOIN_AFTER"] = "1s";
            if (seed is not null)
            {
                start.Environment["OLLAMA_PROXY_CLUSTER_SEED_NODES"] = seed;
            }

            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }

            var process = LineProcess.Start(start, "ollama-proxy --simulate (" + name + ")");
            try
            {
                // "ollama-proxy listening: HTTP http://127.0.0.1:41234/  gRPC http://127.0.0.1:41235/  (simulated backends)"
                var words = (await process.WaitForLineAsync("ollama-proxy listening:", StartLimit)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var node = new FleetNode(name, process, new Uri(words[3]));
                if (untilUp)
                {
                    await Awaiting.AwaitConditionAsync(async () => await node.StateAsync() == "up", StartLimit, $"{name} up in the fleet");
                }

                return node;
            }
            catch
            {
                await process.DisposeAsync();
                throw;
            }
        }

        /// <summary>This node's remoting address as a seed for the others (<c>host:port</c>).</summary>
        public async Task<string> ClusterAddressAsync()
        {
            using var status = JsonDocument.Parse(await Http.GetStringAsync("/cluster"));
            // akka.tcp://ollama-proxy-fleet@127.0.0.1:4053, or akka.ssl.tcp://… with TLS
            var address = status.RootElement.GetProperty("address").GetString()!;
            return address[(address.IndexOf('@', StringComparison.Ordinal) + 1)..];
        }

        public async Task<string?> StateAsync()
        {
            try
            {
                using var status = JsonDocument.Parse(await Http.GetStringAsync("/cluster"));
                return status.RootElement.GetProperty("state").GetString();
            }
            catch (HttpRequestException)
            {
                return null;
            }
        }

        /// <summary>Waits until GET /backends lists <paramref name="node"/>'s four devices healthy, or none of them.</summary>
        public Task WaitForBackendsAsync(string node, bool present) => Awaiting.AwaitConditionAsync(async () =>
        {
            using var backends = JsonDocument.Parse(await Http.GetStringAsync("/backends"));
            var of = backends.RootElement.GetProperty("backends").EnumerateArray()
                .Where(b => b.GetProperty("node").ValueKind == JsonValueKind.String && b.GetProperty("node").GetString() == node)
                .ToList();
            return present
                ? of.Count == 4 && of.All(b => b.GetProperty("health").GetString() == "healthy" && b.GetProperty("id").GetString()!.StartsWith(node + "/", StringComparison.Ordinal))
                : of.Count == 0;
        }, FleetLimit, $"{Name}'s GET /backends to list {(present ? "the four healthy devices" : "no device")} of {node}");

        /// <summary>The names of the members GET /cluster lists, in any state.</summary>
        public async Task<List<string>> MembersAsync()
        {
            using var status = JsonDocument.Parse(await Http.GetStringAsync("/cluster"));
            return [.. status.RootElement.GetProperty("members").EnumerateArray()
                .Where(m => m.GetProperty("node").ValueKind == JsonValueKind.String)
                .Select(m => m.GetProperty("node").GetString()!)];
        }

        /// <summary>Waits until the daemon's log (stdout) has printed <paramref name="text"/>.</summary>
        public Task WaitForLogAsync(string text) => _process.WaitForTextAsync(text, FleetLimit);

        /// <summary>Waits until GET /cluster no longer lists <paramref name="node"/> (the split-brain resolver downed and removed it).</summary>
        public Task WaitForMemberGoneAsync(string node) => Awaiting.AwaitConditionAsync(async () =>
        {
            using var status = JsonDocument.Parse(await Http.GetStringAsync("/cluster"));
            return !status.RootElement.GetProperty("members").EnumerateArray()
                .Any(m => m.GetProperty("node").ValueKind == JsonValueKind.String && m.GetProperty("node").GetString() == node);
        }, FleetLimit, $"{Name}'s GET /cluster to no longer list {node}");

        public async Task<HttpResponseMessage> PostAsync(string path, string json, params (string Name, string Value)[] headers)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
            return await Http.SendAsync(request);
        }

        public async Task<OpenStream> StartStreamAsync(string json, string target)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/generate") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Target-Backend", target);
            var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode)
            {
                // Read only on failure: a stream that works never ends by itself.
                Assert.Fail($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }

            return new OpenStream(request, response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        }

        /// <summary>Sends SIGSTOP or SIGCONT to the daemon.</summary>
        public void Signal(string signal)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture)]))!;
            kill.WaitForExit();
            Assert.Equal(0, kill.ExitCode);
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Http.Dispose();
            await _process.DisposeAsync();
        }
    }

    private sealed record OpenStream(HttpRequestMessage Request, HttpResponseMessage Response, StreamReader Reader) : IDisposable
    {
        public void Dispose()
        {
            Reader.Dispose();
            Response.Dispose();
            Request.Dispose();
        }
    }
}
