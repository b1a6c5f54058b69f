namespace Router.Telemetry.Exposition;

/// <summary>The labels of one series: sanitized names in ordinal order with their values. Compared by content.</summary>
internal sealed class LabelSet : IEquatable<LabelSet>
{
    public static readonly LabelSet Empty = new([], []);

    private readonly int _hash;

    private LabelSet(string[] names, string[] values)
    {
        Names = names;
        Values = values;
        var hash = new HashCode();
        for (var i = 0; i < names.Length; i++)
        {
            hash.Add(names[i], StringComparer.Ordinal);
            hash.Add(values[i], StringComparer.Ordinal);
        }

        _hash = hash.ToHashCode();
    }

    public string[] Names { get; }

    public string[] Values { get; }

    public int Count => Names.Length;

    /// <summary>From a measurement's tags; a tag key repeated after sanitizing keeps its last value.</summary>
    public static LabelSet From(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return Empty;
        }

        var pairs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            pairs[PrometheusNames.LabelName(tag.Key)] = PrometheusNames.LabelValue(tag.Value);
        }

        var names = new string[pairs.Count];
        var values = new string[pairs.Count];
        var i = 0;
        foreach (var (name, value) in pairs)
        {
            names[i] = name;
            values[i] = value;
            i++;
        }

        return new LabelSet(names, values);
    }

    /// <summary>Orders series within a family: by label values in name order, then by count.</summary>
    public static int Compare(LabelSet x, LabelSet y)
    {
        var n = Math.Min(x.Count, y.Count);
        for (var i = 0; i < n; i++)
        {
            var byName = string.CompareOrdinal(x.Names[i], y.Names[i]);
            if (byName != 0)
            {
                return byName;
            }

            var byValue = string.CompareOrdinal(x.Values[i], y.Values[i]);
            if (byValue != 0)
            {
                return byValue;
            }
        }

        return x.Count.CompareTo(y.Count);
    }

    public bool Equals(LabelSet? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other._hash != _hash || other.Count != Count)
        {
            return false;
        }

        for (var i = 0; i < Count; i++)
        {
            if (!string.Equals(Names[i], other.Names[i], StringComparison.Ordinal)
                || !string.Equals(Values[i], other.Values[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as LabelSet);

    public override int GetHashCode() => _hash;
}
