using System.Buffers;

namespace Router.Tests.Backends;

/// <summary>Builds multi-segment sequences and feeds bytes in reads, as a pipe would.</summary>
internal static class SequenceBuilder
{
    public static ReadOnlySequence<byte> Segmented(params byte[][] parts)
    {
        if (parts.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(parts[0], 0);
        Segment last = first;
        for (int i = 1; i < parts.Length; i++)
        {
            last = last.Append(parts[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>
    /// Feeds <paramref name="input"/> in reads split at <paramref name="splits"/>, keeping what the parser
    /// did not consume (like PipeReader.AdvanceTo), and collects what <paramref name="parse"/> returns.
    /// The buffer of each read is a two-segment sequence (leftover, new bytes) so frames straddle segments.
    /// </summary>
    public static List<T> Feed<T>(byte[] input, int[] splits, Func<ReadOnlySequence<byte>, (List<T> Items, ReadOnlySequence<byte> Remaining)> parse)
    {
        var results = new List<T>();
        byte[] leftover = [];
        int start = 0;
        foreach (int end in splits.Append(input.Length))
        {
            byte[] fresh = input[start..end];
            start = end;
            ReadOnlySequence<byte> buffer = Segmented(leftover, fresh);
            (List<T> items, ReadOnlySequence<byte> rest) = parse(buffer);
            results.AddRange(items);
            leftover = rest.ToArray();
        }

        return results;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
