using BenchmarkDotNet.Running;
using Router.Benchmarks.Actors;

namespace Router.Benchmarks;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : string.Empty;
        string[] rest = args.Length > 1 ? args[1..] : [];
        switch (mode)
        {
            case "actors":
                // Quick console figures (about a minute): scripts/bench-actors.
                return QuickActorBenchmark.Run(rest);
            case "routing-sim":
                // Modes and naive policies over a simulated day on a virtual clock: scripts/bench-routing.
                return Routing.RoutingSimulation.Run(rest);
            case "grpc":
                // The gRPC surface alone, then the daemon against its device: scripts/bench-grpc.
                return await Grpc.GrpcBenchmark.RunAsync(rest);
            case "chaos":
                // The reliability suite against the real daemon: scripts/chaos [--short].
                return await Chaos.ChaosSuite.RunAsync(rest);
            case "bdn":
                // Full BenchmarkDotNet runs, e.g. `bdn --filter *Tell*`.
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest);
                return 0;
            default:
                Console.Error.WriteLine("usage: Router.Benchmarks actors [--quick] | routing-sim [--seed N] | grpc [unary-calls] [streams] [tokens] [repo] | chaos [--short] [--requests N] [--concurrency N] [--seed N] | bdn [BenchmarkDotNet arguments]");
                return 2;
        }
    }
}
