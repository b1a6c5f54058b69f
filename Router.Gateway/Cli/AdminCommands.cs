using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Router.Actors.Routing;
using Router.Actors.Inspection;
using Router.Gateway.Http;

namespace Router.Gateway.Cli;

/// <summary>CLI subcommands that read or change a running daemon through its admin API.</summary>
internal static class AdminCommands
{
    public static IEnumerable<Command> Build(Option<Uri> url, Option<string?> apiKey)
    {
        // Every subcommand talks to the same daemon with the same key.
        Task<int> RunAsync(ParseResult result, CancellationToken cancellationToken, Func<HttpClient, CancellationToken, Task<int>> action) =>
            AdminCommands.RunAsync(result.GetValue(url)!, result.GetValue(apiKey), cancellationToken, action);

        var status = new Command("status", "Overall health, the efficiency mode in effect and why.");
        status.SetAction((r, ct) => RunAsync(r, ct, StatusAsync));
        yield return status;

        var backends = new Command("backends", "Each backend's state, load, models and live latency.");
        backends.SetAction((r, ct) => RunAsync(r, ct, BackendsAsync));
        yield return backends;

        var cluster = new Command("cluster", "The fleet: each member's state, whether it is reachable, its round trip and its backends.");
        cluster.SetAction((r, ct) => RunAsync(r, ct, ClusterAsync));
        yield return cluster;

        var actorPath = new Option<string?>("--path") { Description = "Show only the subtree at this actor path, e.g. /user/backends (default: /user)." };
        var actors = new Command("actors", "The actor tree: each actor's type, mailbox, messages waiting, restarts and last failure.") { actorPath };
        actors.SetAction((r, ct) => RunAsync(r, ct, (http, token) => ActorsAsync(http, r.GetValue(actorPath), token)));
        yield return actors;

        var modeArgument = new Argument<string?>("mode")
        {
            Description = "performance | balanced | efficiency | quiet | ultra-efficiency | auto (omit to show the current mode)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var mode = new Command("mode", "Show or set the efficiency mode.") { modeArgument };
        mode.SetAction((r, ct) => RunAsync(r, ct, (http, token) => ModeAsync(http, r.GetValue(modeArgument), token)));
        yield return mode;

        var model = new Option<string?>("--model") { Description = "The model the request would ask for." };
        var priority = new Option<string?>("--priority") { Description = "best-effort | normal | high | critical (or 0-3)." };
        var target = new Option<string?>("--target") { Description = "A backend id or a hardware kind (npu, igpu, nvidia, cpu)." };
        var latencyCritical = new Option<bool>("--latency-critical") { Description = "Ask for the fastest backend." };
        var powerEfficient = new Option<bool>("--power-efficient") { Description = "Ask for the lowest-power backend." };
        var maxLatency = new Option<int?>("--max-latency-ms") { Description = "Latency budget in milliseconds." };
        var maxPower = new Option<double?>("--max-power-watts") { Description = "Power budget in watts." };
        var explain = new Command("explain", "Explain where a request would go now, and why.")
        {
            model, priority, target, latencyCritical, powerEfficient, maxLatency, maxPower,
        };
        explain.SetAction((r, ct) => RunAsync(r, ct, (http, token) =>
        {
            var query = new StringBuilder("/explain?");
            Append(query, "model", r.GetValue(model));
            Append(query, "priority", r.GetValue(priority));
            Append(query, "target", r.GetValue(target));
            Append(query, "latency_critical", r.GetValue(latencyCritical) ? "true" : null);
            Append(query, "power_efficient", r.GetValue(powerEfficient) ? "true" : null);
            Append(query, "max_latency_ms", r.GetValue(maxLatency)?.ToString(CultureInfo.InvariantCulture));
            Append(query, "max_power_watts", r.GetValue(maxPower)?.ToString(CultureInfo.InvariantCulture));
            return ExplainAsync(http, query.ToString().TrimEnd('&', '?'), token);
        }));
        yield return explain;
    }

    private static void Append(StringBuilder query, string name, string? value)
    {
        if (value is not null)
        {
            query.Append(name).Append('=').Append(Uri.EscapeDataString(value)).Append('&');
        }
    }

    private static async Task<int> RunAsync(Uri url, string? apiKey, CancellationToken cancellationToken, Func<HttpClient, CancellationToken, Task<int>> action)
    {
        using var http = new HttpClient(new RefusedKeyCheck { InnerHandler = new SocketsHttpHandler() }) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) };
        if (apiKey is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        try
        {
            return await action(http, cancellationToken).ConfigureAwait(false);
        }
        catch (KeyRefusedException)
        {
            await Console.Error.WriteLineAsync(apiKey is null
                ? $"ollama-proxy: the daemon at {url} needs an API key: pass --api-key KEY or set OLLAMA_PROXY_API_KEY (one of its server.api-keys)"
                : $"ollama-proxy: the daemon at {url} did not accept the API key: use one of its server.api-keys").ConfigureAwait(false);
            return ExitCodes.Rejected;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"ollama-proxy: cannot reach the daemon at {url}: {ex.Message} (start it with `ollama-proxy`, or pass --url)").ConfigureAwait(false);
            return ExitCodes.Failed;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"ollama-proxy: the daemon at {url} did not answer within 10 s").ConfigureAwait(false);
            return ExitCodes.Failed;
        }
    }

    private static async Task<JsonNode?> GetJsonAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return JsonNode.Parse(body);
    }

    private static async Task<int> StatusAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var health = await GetJsonAsync(http, "/health", cancellationToken).ConfigureAwait(false);
        var efficiency = await GetJsonAsync(http, "/efficiency", cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"status:   {health?["status"]}");
        Console.WriteLine($"mode:     {efficiency?["mode"]} (in effect: {efficiency?["effective_mode"]}; {efficiency?["reason"]})");
        Console.WriteLine($"power:    {(efficiency?["on_ac_power"]?.GetValue<bool>() == false ? "battery" : "AC")}{(efficiency?["battery_percent"] is { } b ? $", battery {b}%" : "")}");
        foreach (var backend in health?["backends"] as JsonArray ?? [])
        {
            Console.WriteLine($"  {backend?["id"],-16} {backend?["health"]}");
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> BackendsAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var json = await GetJsonAsync(http, "/backends", cancellationToken).ConfigureAwait(false);
        var list = json?["backends"] as JsonArray ?? json as JsonArray ?? [];
        // A fleet node's backends read node/backend: the column widens for them.
        var idWidth = Math.Max(16, list.Max(b => b?["id"]?.ToString().Length ?? 0));
        // The round trip to a fleet node is a column of its own only when the list has such backends.
        var fleet = list.Any(b => b?["node"] is not null);
        Console.WriteLine($"{"ID".PadRight(idWidth)} {"HW",-7} {"STATE",-10} {"W",5} {"MS",6}{(fleet ? $" {"RTT",5}" : "")} {"FLIGHT",6} {"QUEUE C/H/N/B",-14} MODELS");
        foreach (var backend in list)
        {
            // Queue depth per priority, critical first: "critical/high/normal/best-effort".
            var queue = backend?["queue"] is JsonObject q ? string.Join("/", q.Reverse().Select(p => p.Value?.ToString())) : "";
            var models = backend?["models"] is JsonArray m ? string.Join(", ", m.Select(x => x?.ToString())) : "";
            var characteristics = backend?["characteristics"];
            var roundTrip = backend?["node"] is null ? "-" : backend?["network_round_trip_ms"]?.GetValue<double>().ToString("0.0", CultureInfo.InvariantCulture);
            Console.WriteLine($"{(backend?["id"]?.ToString() ?? "").PadRight(idWidth)} {backend?["hardware"],-7} {backend?["health"],-10} {characteristics?["power_watts"],5} {characteristics?["avg_latency_ms"],6}{(fleet ? $" {roundTrip,5}" : "")} {backend?["metrics"]?["in_flight"],6} {queue,-14} {models}");
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> ClusterAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var json = await GetJsonAsync(http, "/cluster", cancellationToken).ConfigureAwait(false);
        if (json?["enabled"]?.GetValue<bool>() != true)
        {
            Console.WriteLine(json?["message"]?.ToString() ?? "The fleet is off.");
            return ExitCodes.Ok;
        }

        Console.WriteLine($"node:     {json["node"]} ({json["state"]}) at {json["address"]}");
        if (json["message"] is { } message)
        {
            Console.WriteLine($"          {message}");
        }

        Console.WriteLine($"{"NODE",-16} {"STATE",-10} {"REACHABLE",-9} {"RTT MS",7} {"BACKENDS",8} {"POWER",-14} ADDRESS");
        foreach (var member in json["members"] as JsonArray ?? [])
        {
            var self = member?["self"]?.GetValue<bool>() == true;
            var roundTrip = self ? "-" : member?["round_trip_ms"] is { } rtt ? rtt.GetValue<double>().ToString("0.00", CultureInfo.InvariantCulture) : "?";
            var power = member?["power"] is JsonObject p
                ? p["on_ac_power"]?.GetValue<bool>() == true ? "AC" : $"battery {p["battery_percent"]}%"
                : "?";
            if (member?["power"]?["hot"]?.GetValue<bool>() == true)
            {
                power += ", hot";
            }

            var name = (member?["node"]?.ToString() ?? "?") + (self ? " *" : "");
            Console.WriteLine($"{name,-16} {member?["state"],-10} {(member?["reachable"]?.GetValue<bool>() == true ? "yes" : "NO"),-9} {roundTrip,7} {member?["backends"],8} {power,-14} {member?["address"]}");
            if (member?["message"] is { } note)
            {
                Console.WriteLine($"{"",-16} {note}");
            }
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> ActorsAsync(HttpClient http, string? path, CancellationToken cancellationToken)
    {
        var query = path is null ? "/actors" : "/actors?path=" + Uri.EscapeDataString(path);
        using var response = await http.GetAsync(new Uri(query, UriKind.Relative), cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var error = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            await Console.Error.WriteLineAsync($"ollama-proxy: {error?["error"]?["message"] ?? response.ReasonPhrase}").ConfigureAwait(false);
            return ExitCodes.Rejected;
        }

        var snapshot = await response.Content.ReadFromJsonAsync<ActorTreeSnapshot>(ActorTreeJson.Options, cancellationToken).ConfigureAwait(false);
        if (snapshot is null)
        {
            await Console.Error.WriteLineAsync("ollama-proxy: the daemon returned no actor tree").ConfigureAwait(false);
            return ExitCodes.Rejected;
        }

        Console.Write(ActorTreeText.Render(snapshot));
        return ExitCodes.Ok;
    }

    private static async Task<int> ModeAsync(HttpClient http, string? mode, CancellationToken cancellationToken)
    {
        JsonNode? state;
        if (mode is null)
        {
            state = await GetJsonAsync(http, "/efficiency", cancellationToken).ConfigureAwait(false);
        }
        else
        {
            using var response = await http.PostAsJsonAsync(new Uri("/efficiency", UriKind.Relative), new { mode }, cancellationToken).ConfigureAwait(false);
            state = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            if (!response.IsSuccessStatusCode)
            {
                await Console.Error.WriteLineAsync($"ollama-proxy: {state?["error"]?["message"] ?? state?["error"]}").ConfigureAwait(false);
                return ExitCodes.Rejected;
            }
        }

        Console.WriteLine($"mode: {state?["mode"]} (in effect: {state?["effective_mode"]}; {state?["reason"]})");
        return ExitCodes.Ok;
    }

    private static async Task<int> ExplainAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken).ConfigureAwait(false);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        if (!response.IsSuccessStatusCode)
        {
            // A 400 is about what was asked (a bad option); anything else says why nothing can serve.
            var prefix = response.StatusCode == System.Net.HttpStatusCode.BadRequest ? "" : "no backend: ";
            await Console.Error.WriteLineAsync($"ollama-proxy: {prefix}{json?["error"]?["message"] ?? json?["error"]}").ConfigureAwait(false);
            return ExitCodes.Rejected;
        }

        Console.WriteLine($"backend:      {json?["backend"]}");
        Console.WriteLine($"reason:       {json?["reason"]}");
        Console.WriteLine($"mode:         {json?["effective_mode"]}");
        Console.WriteLine($"estimate:     {json?["estimated_latency_ms"]} ms, {json?["estimated_power_w"]} W, {json?["estimated_energy_wh"]} Wh");
        Console.WriteLine($"alternatives: {string.Join(", ", (json?["alternatives"] as JsonArray ?? []).Select(a => a?.ToString()))}");
        return ExitCodes.Ok;
    }

    /// <summary>Turns the daemon's 401 into one clear message, whatever the command was reading.</summary>
    private sealed class RefusedKeyCheck : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != System.Net.HttpStatusCode.Unauthorized) return response;
            response.Dispose();
            throw new KeyRefusedException();
        }
    }

    private sealed class KeyRefusedException : Exception;
}
