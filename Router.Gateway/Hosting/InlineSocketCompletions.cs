namespace Router.Gateway.Hosting;

/// <summary>
/// Inline socket completions (<c>server.inline-io</c>). By default .NET hands every socket
/// completion from its epoll thread to the thread pool; inline, the completion and the request code
/// it resumes run on the epoll thread itself, and Kestrel sends without a hop of its own. A streamed
/// token then goes from the backend's socket to the client's with no thread switch. The runtime reads
/// the switch from the environment once, at the process's first asynchronous socket call, so the
/// daemon sets it before it opens any socket.
/// </summary>
internal static class InlineSocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Asks the runtime for inline completions when the configuration wants them and the environment
    /// has not decided already: an explicit value set by whoever started the daemon is theirs to keep.
    /// </summary>
    public static void Request(bool wanted)
    {
        if (wanted && Environment.GetEnvironmentVariable(Variable) is null)
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }

    /// <summary>Whether this process's sockets complete inline (the runtime's own test of the variable).</summary>
    public static bool Enabled => Environment.GetEnvironmentVariable(Variable) == "1";
}
