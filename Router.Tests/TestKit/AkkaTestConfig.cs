using Akka.Configuration;
using AkkaConfig = Akka.Configuration.Config;
using Router.Actors.Config;

namespace Router.Tests.TestKit;

/// <summary>
/// The actor system configuration of actor tests: the router's own Akka settings (mailboxes,
/// stream buffers), Akka.TestKit's virtual <c>TestScheduler</c> for actor timers, and patient
/// default waits for a shared two-core machine.
/// </summary>
internal static class AkkaTestConfig
{
    /// <summary>How long a test waits for something that should happen; reaching it fails the test.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    /// <summary>Akka settings that run the scheduler on virtual time: timers fire only when the test advances it.</summary>
    public const string VirtualTimeHocon = """
        akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
        """;

    private const string PatienceHocon = """
        akka.test.single-expect-default = 15s
        akka.loglevel = WARNING
        """;

    public static AkkaConfig VirtualTime { get; } = ConfigurationFactory.ParseString(VirtualTimeHocon + "\n" + PatienceHocon).WithFallback(ActorSystemConfig.Defaults);

    public static AkkaConfig RealTime { get; } = ConfigurationFactory.ParseString(PatienceHocon).WithFallback(ActorSystemConfig.Defaults);
}
