namespace Router.Actors.Runtime;

public static class ActorRefExtensions
{
    /// <summary>
    /// Tells <paramref name="message"/> with a temporary sender and completes with the first reply:
    /// a <typeparamref name="T"/> (or <see cref="Status.Success"/> holding one) is the result,
    /// <see cref="Status.Failure"/> throws its cause, no reply within the timeout throws
    /// <see cref="AskTimeoutException"/>. The timeout runs on the actor system's <see cref="TimeProvider"/>.
    /// </summary>
    public static Task<T> Ask<T>(this IActorRef actor, object message, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(message);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        ActorSystem? system = (actor as IInternalActorRef)?.System;
        TimeSpan wait = timeout ?? system?.Options.DefaultAskTimeout ?? ActorSystemOptions.Default.DefaultAskTimeout;
        if (wait <= TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), wait, "Ask timeout must be positive or infinite.");
        }

        var promise = new PromiseActorRef<T>(system, actor, wait);
        promise.Start(system?.TimeProvider ?? TimeProvider.System, cancellationToken);
        actor.Tell(message, promise);
        return promise.Task;
    }

    /// <summary>Passes <paramref name="message"/> on with the current message's sender, so the reply goes to the original asker.</summary>
    public static void Forward(this IActorRef actor, object message, IActorContext context)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(context);
        actor.Tell(message, context.Sender);
    }
}
