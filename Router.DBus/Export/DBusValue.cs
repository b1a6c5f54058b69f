using System.Collections.Immutable;
using Tmds.DBus.Protocol;

namespace Router.DBus.Export;

/// <summary>
/// A property value of the exported objects: one of the few D-Bus types the contract uses, with
/// structural equality, so a property is announced in PropertiesChanged exactly when it changed
/// (Tmds' VariantValue compares arrays and dictionaries by reference).
/// </summary>
internal readonly struct DBusValue : IEquatable<DBusValue>
{
    private readonly object? _reference;
    private readonly double _number;
    private readonly long _integer;

    private DBusValue(string signature, object? reference, double number, long integer)
    {
        Signature = signature;
        _reference = reference;
        _number = number;
        _integer = integer;
    }

    /// <summary>The D-Bus type, as the contract writes it.</summary>
    public string Signature { get; }

    public static DBusValue String(string value) => new("s", value, 0, 0);
    public static DBusValue Bool(bool value) => new("b", null, 0, value ? 1 : 0);
    public static DBusValue Double(double value) => new("d", null, value, 0);
    public static DBusValue UInt32(uint value) => new("u", null, 0, value);
    public static DBusValue UInt64(ulong value) => new("t", null, 0, unchecked((long)value));
    public static DBusValue Int64(long value) => new("x", null, 0, value);
    public static DBusValue Strings(ImmutableArray<string> values) => new("as", values, 0, 0);
    /// <summary>a{sd}, written in key order.</summary>
    public static DBusValue DoublesByName(ImmutableSortedDictionary<string, double> values) => new("a{sd}", values, 0, 0);
    /// <summary>a{st}, written in key order.</summary>
    public static DBusValue CountsByName(ImmutableSortedDictionary<string, ulong> values) => new("a{st}", values, 0, 0);

    /// <summary>Writes the value as a variant (its signature, then the value).</summary>
    public void WriteVariant(ref MessageWriter writer)
    {
        switch (Signature)
        {
            case "s": writer.WriteVariantString((string)_reference!); break;
            case "b": writer.WriteVariantBool(_integer != 0); break;
            case "d": writer.WriteVariantDouble(_number); break;
            case "u": writer.WriteVariantUInt32((uint)_integer); break;
            case "t": writer.WriteVariantUInt64(unchecked((ulong)_integer)); break;
            case "x": writer.WriteVariantInt64(_integer); break;
            case "as":
                writer.WriteSignature("as");
                writer.WriteArray(((ImmutableArray<string>)_reference!).AsSpan());
                break;
            case "a{sd}":
            {
                writer.WriteSignature("a{sd}");
                var start = writer.WriteDictionaryStart();
                foreach (var (key, value) in (ImmutableSortedDictionary<string, double>)_reference!)
                {
                    writer.WriteDictionaryEntryStart();
                    writer.WriteString(key);
                    writer.WriteDouble(value);
                }

                writer.WriteDictionaryEnd(start);
                break;
            }

            case "a{st}":
            {
                writer.WriteSignature("a{st}");
                var start = writer.WriteDictionaryStart();
                foreach (var (key, value) in (ImmutableSortedDictionary<string, ulong>)_reference!)
                {
                    writer.WriteDictionaryEntryStart();
                    writer.WriteString(key);
                    writer.WriteUInt64(value);
                }

                writer.WriteDictionaryEnd(start);
                break;
            }

            default:
                throw new InvalidOperationException("unsupported D-Bus value type " + Signature);
        }
    }

    public bool Equals(DBusValue other)
    {
        if (!string.Equals(Signature, other.Signature, StringComparison.Ordinal))
        {
            return false;
        }

        return Signature switch
        {
            "s" => string.Equals((string?)_reference, (string?)other._reference, StringComparison.Ordinal),
            // NaN (no reading) equals NaN here: it is the same "unknown" each time.
            "d" => _number.Equals(other._number),
            "as" => ((ImmutableArray<string>)_reference!).SequenceEqual((ImmutableArray<string>)other._reference!, StringComparer.Ordinal),
            "a{sd}" => SameEntries((ImmutableSortedDictionary<string, double>)_reference!, (ImmutableSortedDictionary<string, double>)other._reference!),
            "a{st}" => SameEntries((ImmutableSortedDictionary<string, ulong>)_reference!, (ImmutableSortedDictionary<string, ulong>)other._reference!),
            _ => _integer == other._integer,
        };
    }

    public override bool Equals(object? obj) => obj is DBusValue other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Signature, _number, _integer);

    public static bool operator ==(DBusValue left, DBusValue right) => left.Equals(right);

    public static bool operator !=(DBusValue left, DBusValue right) => !left.Equals(right);

    public override string ToString() => Signature switch
    {
        "s" => (string)_reference!,
        "b" => _integer != 0 ? "true" : "false",
        "d" => _number.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "as" => "[" + string.Join(", ", (ImmutableArray<string>)_reference!) + "]",
        "a{sd}" or "a{st}" => "{…}",
        _ => _integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static bool SameEntries<T>(ImmutableSortedDictionary<string, T> a, ImmutableSortedDictionary<string, T> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (var (key, value) in a)
        {
            if (!b.TryGetValue(key, out var other) || !EqualityComparer<T>.Default.Equals(value, other))
            {
                return false;
            }
        }

        return true;
    }
}
