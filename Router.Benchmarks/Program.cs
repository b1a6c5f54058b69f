namespace Router.Benchmarks;

internal static class Program
{
    public static int Main(string[] args)
    {
        // Minimal dispatch until the benchmarks' own switch lands.
        if (args.Length > 0 && args[0] == "routing-sim")
        {
            return Routing.RoutingSimulation.Run(args[1..]);
        }

        return 0;
    }
}
