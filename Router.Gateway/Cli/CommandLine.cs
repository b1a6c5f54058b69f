using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Router.Actors.Config;
using Router.Actors.Inspection;
using Router.Gateway.Hosting;

namespace Router.Gateway.Cli;

/// <summary>
/// <c>ollama-proxy</c> runs the daemon; its subcommands talk to a running daemon over the admin API.
/// </summary>
internal static class CommandLine
{
    public static RootCommand Build()
    {
        var config = new Option<FileInfo?>("--config") { Description = "Configuration file (HOCON .conf, or the older .yaml format). Default: hocon/router.conf next to the program." };
        var simulate = new Option<bool>("--simulate") { Description = "Start four simulated devices (NPU, iGPU, NVIDIA, CPU) in-process and route to them; no Ollama needed." };
        var timeScale = new Option<double>("--time-scale") { Description = "Simulator speed: 1 is real time, 0.1 ten times faster, 0 instant.", DefaultValueFactory = _ => 1.0 };
        var httpPort = new Option<int?>("--http-port") { Description = "HTTP port (overrides the configuration)." };
        var grpcPort = new Option<int?>("--grpc-port") { Description = "gRPC port (overrides the configuration)." };

        var root = new RootCommand("Ollama Proxy: one endpoint that routes every LLM request to the right local device.")
        {
            config, simulate, timeScale, httpPort, grpcPort,
        };
        root.SetAction((result, cancellationToken) => RunDaemonAsync(
            result.GetValue(config), result.GetValue(simulate), result.GetValue(timeScale),
            result.GetValue(httpPort), result.GetValue(grpcPort), cancellationToken));

        var url = new Option<Uri>("--url")
        {
            Description = "The daemon's HTTP address (default: $OLLAMA_PROXY_URL, else http://127.0.0.1:8080).",
            DefaultValueFactory = _ => new Uri(Environment.GetEnvironmentVariable("OLLAMA_PROXY_URL") ?? "http://127.0.0.1:8080"),
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
                {
                    return uri;
                }

                result.AddError($"--url must be an http:// or https:// address such as http://127.0.0.1:8080, not '{text}'");
                return null;
            },
            Recursive = true,
        };
        root.Options.Add(url);
        var apiKey = new Option<string?>("--api-key")
        {
            Description = "The key to send when the daemon has server.api-keys set (default: $OLLAMA_PROXY_API_KEY).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("OLLAMA_PROXY_API_KEY") is { Length: > 0 } key ? key : null,
            Recursive = true,
        };
        root.Options.Add(apiKey);
        foreach (var command in AdminCommands.Build(url, apiKey))
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(SimulatorCommand.Build());

        return root;
    }

    private static async Task<int> RunDaemonAsync(FileInfo? configFile, bool simulate, double timeScale, int? httpPort, int? grpcPort, CancellationToken cancellationToken)
    {
        RouterConfig config;
        try
        {
            config = ConfigLoader.Load(configFile?.FullName, EnvironmentVariables());
        }
        catch (ConfigException ex)
        {
            await Console.Error.WriteLineAsync("ollama-proxy: invalid configuration:\n" + ex.Message).ConfigureAwait(false);
            return ExitCodes.InvalidConfig;
        }

        if (timeScale < 0)
        {
            await Console.Error.WriteLineAsync("ollama-proxy: --time-scale must be 0 or more").ConfigureAwait(false);
            return ExitCodes.InvalidConfig;
        }

        // Before the first socket: the runtime reads this once (nothing above opens one).
        InlineSocketCompletions.Request(config.Server.InlineIo);

        RouterHost host;
        try
        {
            host = await RouterHost.StartAsync(config, new RouterHostOptions
            {
                Simulate = simulate,
                SimulationTimeScale = timeScale,
                HttpPort = httpPort,
                GrpcPort = grpcPort,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Router.DBus.BusNameTakenException ex)
        {
            await Console.Error.WriteLineAsync("ollama-proxy: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Failed;
        }
        catch (IOException ex)
        {
            await Console.Error.WriteLineAsync($"ollama-proxy: cannot listen: {ex.Message} (is another router running? choose ports with --http-port/--grpc-port)").ConfigureAwait(false);
            return ExitCodes.Failed;
        }

        await using (host.ConfigureAwait(false))
        {
            var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Router");
            SystemdService.NotifyReady($"HTTP {host.HttpEndpoint}  gRPC {host.GrpcEndpoint}", logger);
            Console.WriteLine($"ollama-proxy listening: HTTP {host.HttpEndpoint}  gRPC {host.GrpcEndpoint}{(simulate ? "  (simulated backends)" : "")}");
            Console.WriteLine($"  socket completions: {(InlineSocketCompletions.Enabled ? "inline" : "thread pool")} (server.inline-io)");
            foreach (var backend in host.Config.Backends)
            {
                Console.WriteLine($"  backend {backend.Id,-16} {backend.Hardware,-7} {backend.Endpoint}{(backend.Enabled ? "" : "  (disabled)")}");
            }

            if (ActorTreeInspector.Inspect(host.Runtime.System) is { } tree)
            {
                Console.WriteLine("Actor tree:");
                Console.Write(ActorTreeText.Render(tree));
            }
            try
            {
                await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: an orderly stop follows.
            }

            SystemdService.NotifyStopping(logger);
        }

        return ExitCodes.Ok;
    }

    internal static Dictionary<string, string> EnvironmentVariables()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && entry.Value is string value)
            {
                result[key] = value;
            }
        }

        return result;
    }
}
