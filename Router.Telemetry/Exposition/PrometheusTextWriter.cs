using System.Buffers;
using System.Globalization;
using System.Text;

namespace Router.Telemetry.Exposition;

/// <summary>
/// Writes the Prometheus text format 0.0.4 as UTF-8 into a buffer writer: <c># HELP</c> and
/// <c># TYPE</c> lines, then one line per sample, <c>name{label="value",…} value</c>.
/// Escaping follows the format: in HELP text <c>\</c> and line feed; in label values also <c>"</c>.
/// </summary>
internal ref struct PrometheusTextWriter
{
    /// <summary>Longest UTF-8 text a double formats to ("-1.7976931348623157E+308" is 24 bytes).</summary>
    private const int MaxNumberBytes = 32;

    private readonly IBufferWriter<byte> _output;

    public PrometheusTextWriter(IBufferWriter<byte> output)
    {
        _output = output;
    }

    public readonly void WriteHelp(string name, string help)
    {
        WriteAscii("# HELP ");
        WriteRaw(name);
        WriteByte((byte)' ');
        WriteEscaped(help, escapeQuote: false);
        WriteByte((byte)'\n');
    }

    public readonly void WriteType(string name, string type)
    {
        WriteAscii("# TYPE ");
        WriteRaw(name);
        WriteByte((byte)' ');
        WriteAscii(type);
        WriteByte((byte)'\n');
    }

    /// <summary>One sample line; <paramref name="le"/> adds the histogram bucket label after the others.</summary>
    public readonly void WriteSample(string name, string? suffix, LabelSet labels, string? le, double value)
    {
        WriteRaw(name);
        if (suffix is not null)
        {
            WriteAscii(suffix);
        }

        if (labels.Count > 0 || le is not null)
        {
            WriteByte((byte)'{');
            for (var i = 0; i < labels.Count; i++)
            {
                if (i > 0)
                {
                    WriteByte((byte)',');
                }

                WriteLabel(labels.Names[i], labels.Values[i]);
            }

            if (le is not null)
            {
                if (labels.Count > 0)
                {
                    WriteByte((byte)',');
                }

                WriteLabel("le", le);
            }

            WriteByte((byte)'}');
        }

        WriteByte((byte)' ');
        WriteNumber(value);
        WriteByte((byte)'\n');
    }

    /// <summary>A sample value or an <c>le</c> bound: shortest round-trip form, <c>+Inf</c>, <c>-Inf</c>, <c>NaN</c>.</summary>
    public static string FormatNumber(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private readonly void WriteLabel(string name, string value)
    {
        WriteRaw(name);
        WriteAscii("=\"");
        WriteEscaped(value, escapeQuote: true);
        WriteByte((byte)'"');
    }

    private readonly void WriteNumber(double value)
    {
        if (!double.IsFinite(value))
        {
            WriteAscii(FormatNumber(value));
            return;
        }

        var span = _output.GetSpan(MaxNumberBytes);
        if (!value.TryFormat(span, out var written, "R", CultureInfo.InvariantCulture))
        {
            // Unreachable with MaxNumberBytes; keep the output well-formed regardless.
            WriteAscii(FormatNumber(value));
            return;
        }

        _output.Advance(written);
    }

    /// <summary>Text with <c>\</c>, line feed and (in label values) <c>"</c> escaped; everything else as UTF-8.</summary>
    private readonly void WriteEscaped(string text, bool escapeQuote)
    {
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var escape = text[i] switch
            {
                '\\' => "\\\\",
                '\n' => "\\n",
                '"' when escapeQuote => "\\\"",
                _ => null,
            };
            if (escape is null)
            {
                continue;
            }

            WriteRaw(text.AsSpan(start, i - start));
            WriteAscii(escape);
            start = i + 1;
        }

        WriteRaw(text.AsSpan(start));
    }

    private readonly void WriteRaw(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return;
        }

        var span = _output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        var written = Encoding.UTF8.GetBytes(text, span);
        _output.Advance(written);
    }

    private readonly void WriteAscii(string text) => WriteRaw(text);

    private readonly void WriteByte(byte value)
    {
        _output.GetSpan(1)[0] = value;
        _output.Advance(1);
    }
}
