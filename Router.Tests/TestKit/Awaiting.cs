using System.Diagnostics;
using Xunit.Sdk;

namespace Router.Tests.TestKit;

/// <summary>
/// Waits for a condition with a timeout. For state that has no signal to wait on (counters,
/// snapshots); it spins and yields rather than sleeping a fixed time, and fails with a message.
/// </summary>
public static class Awaiting
{
    public static void AwaitCondition(Func<bool> condition, TimeSpan timeout, string? message = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var watch = Stopwatch.StartNew();
        var spinner = new SpinWait();
        while (!condition())
        {
            if (watch.Elapsed > timeout)
            {
                throw new XunitException($"Condition not met within {timeout.TotalMilliseconds} ms{(message is null ? "." : ": " + message)}");
            }

            spinner.SpinOnce(sleep1Threshold: 30);
        }
    }

    /// <summary>
    /// Polls a condition that needs I/O (another process's admin API) until it holds; between polls
    /// it waits a little, since there is nothing in this process to be signalled by.
    /// </summary>
    public static async Task AwaitConditionAsync(Func<Task<bool>> condition, TimeSpan timeout, string message)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout)
            {
                throw new XunitException($"Condition not met within {timeout.TotalMilliseconds} ms: {message}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Retries <paramref name="assertion"/> until it passes; after the timeout its last failure is thrown.</summary>
    public static async Task AwaitAssertAsync(Action assertion, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(assertion);
        var watch = Stopwatch.StartNew();
        var spinner = new SpinWait();
        while (true)
        {
            try
            {
                assertion();
                return;
            }
            catch (XunitException) when (watch.Elapsed < timeout)
            {
                spinner.SpinOnce(sleep1Threshold: 30);
                await Task.Yield();
            }
        }
    }

    /// <summary>Awaits <paramref name="task"/> but fails instead of hanging when it takes longer than <paramref name="timeout"/>.</summary>
    public static async Task<T> WithTimeout<T>(this Task<T> task, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(task);
        try
        {
            return await task.WaitAsync(timeout);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            throw new XunitException($"The task did not complete within {timeout.TotalMilliseconds} ms.");
        }
    }

    public static async Task WithTimeout(this Task task, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(task);
        try
        {
            await task.WaitAsync(timeout);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            throw new XunitException($"The task did not complete within {timeout.TotalMilliseconds} ms.");
        }
    }
}
