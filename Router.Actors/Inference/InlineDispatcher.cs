using Akka.Dispatch;
using AkkaConfig = Akka.Configuration.Config;

namespace Router.Actors.Inference;

/// <summary>
/// Runs an actor on the thread that sends it a message, instead of handing the run to the thread
/// pool. The token streams' interpreter actors use it (<see cref="ConfigPath"/>): a token read from
/// the backend's socket resumes the stream's source on the reader's thread, and with this
/// dispatcher the interpreter then pushes it through the sink to the client's socket on that same
/// thread. On the default dispatcher each token would wait for a thread-pool thread to wake, which
/// on a loaded machine costs tens to hundreds of microseconds per token.
/// </summary>
/// <remarks>
/// Safe for these actors because nothing in a token stream blocks: every write and flush is
/// asynchronous and resumes through the stream's own callbacks. The mailbox still guarantees one
/// run at a time: a message that arrives while the actor runs on another thread is queued, and the
/// running thread takes it before it leaves. Akka's TestKit has the same dispatcher for its test
/// actor; this one lives in the product, which must not depend on the TestKit.
/// </remarks>
public sealed class InlineDispatcher : MessageDispatcher
{
    /// <summary>The dispatcher's id in the actor system's configuration.</summary>
    public const string ConfigPath = "ollama-proxy.token-stream-dispatcher";

    public InlineDispatcher(MessageDispatcherConfigurator configurator)
        : base(configurator)
    {
    }

    protected override void ExecuteTask(IRunnable run)
    {
        ArgumentNullException.ThrowIfNull(run);
        run.Run();
    }

    // Owns no threads: nothing to stop.
    protected override void Shutdown()
    {
    }
}

/// <summary>Creates the <see cref="InlineDispatcher"/> declared in HOCON (<c>type = "…InlineDispatcherConfigurator, Router.Actors"</c>).</summary>
public sealed class InlineDispatcherConfigurator : MessageDispatcherConfigurator
{
    private readonly InlineDispatcher _dispatcher;

    public InlineDispatcherConfigurator(AkkaConfig config, IDispatcherPrerequisites prerequisites)
        : base(config, prerequisites) => _dispatcher = new InlineDispatcher(this);

    public override MessageDispatcher Dispatcher() => _dispatcher;
}
