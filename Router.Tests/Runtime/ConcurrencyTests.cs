using Router.Actors.Routing;
using Router.Actors.Runtime;
using Router.Tests.TestKit;

namespace Router.Tests.Runtime;

public sealed class ConcurrencyTests : ActorTestBase
{
    private const int Senders = 8;
    private const int PerSender = 100_000;

    [Theory]
    [InlineData("fifo")]
    [InlineData("priority")]
    public async Task Tell_EightConcurrentSenders_NothingLostOrDuplicatedAndPerSenderOrderKept(string mailbox)
    {
        var done = new TaskCompletionSource<Tally>(TaskCreationOptions.RunContinuationsAsynchronously);
        Props props = Props.Create(() => new Tallying(done, Senders * PerSender));
        if (mailbox == "priority")
        {
            props = props.WithMailbox(new PriorityMailboxOptions());
        }

        IActorRef counter = Sys.ActorOf(props, "counter");
        using var start = new Barrier(Senders);

        Task[] senders = new Task[Senders];
        for (int s = 0; s < Senders; s++)
        {
            int sender = s;
            senders[s] = Task.Factory.StartNew(
                () =>
                {
                    start.SignalAndWait();
                    for (int i = 0; i < PerSender; i++)
                    {
                        counter.Tell(new Numbered(sender, i));
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        await Task.WhenAll(senders).WithTimeout(TimeSpan.FromSeconds(60));
        Tally tally = await done.Task.WithTimeout(TimeSpan.FromSeconds(60));

        Assert.Equal(Senders * PerSender, tally.Total);
        Assert.All(tally.PerSender, count => Assert.Equal(PerSender, count));
        Assert.Equal(0, tally.OutOfOrder);
        Assert.Equal(0, tally.Duplicates);
    }

    internal sealed record Numbered(int Sender, int Sequence);

    internal sealed record Tally(int Total, int[] PerSender, int OutOfOrder, int Duplicates);

    private sealed class Tallying : ReceiveActor
    {
        private readonly int[] _next = new int[Senders];
        private readonly bool[][] _seen;
        private int _total;
        private int _outOfOrder;
        private int _duplicates;

        public Tallying(TaskCompletionSource<Tally> done, int expected)
        {
            _seen = new bool[Senders][];
            for (int i = 0; i < Senders; i++)
            {
                _seen[i] = new bool[PerSender];
            }

            Receive<Numbered>(n =>
            {
                if (_seen[n.Sender][n.Sequence])
                {
                    _duplicates++;
                }

                _seen[n.Sender][n.Sequence] = true;
                if (n.Sequence != _next[n.Sender])
                {
                    _outOfOrder++;
                }

                _next[n.Sender] = n.Sequence + 1;
                if (++_total == expected)
                {
                    done.TrySetResult(new Tally(_total, [.. _next], _outOfOrder, _duplicates));
                }
            });
        }
    }
}
