using System.CommandLine;
using Router.Gateway.Cli;

namespace Router.Gateway;

internal static class Program
{
    // Termination signals are the host's: it drains the requests in flight (server.drain-timeout)
    // and stops the actors, then Main returns 0. System.CommandLine's own handling would kill the
    // process two seconds after SIGTERM, mid-drain.
    public static Task<int> Main(string[] args) =>
        CommandLine.Build().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
}
