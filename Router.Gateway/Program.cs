using Router.Gateway.Cli;

namespace Router.Gateway;

internal static class Program
{
    public static Task<int> Main(string[] args) => CommandLine.Build().Parse(args).InvokeAsync();
}
