using System.Text;

namespace Router.Actors.Config.Hocon;

/// <summary>
/// Writes a resolved value tree back as HOCON text (JSON-like, every key quoted). The router's
/// configuration is read by our own reader; the <c>akka { }</c> block in it is handed to Akka as
/// this text, with the substitutions and environment variables already applied, because Akka's own
/// HOCON reader mishandles <c>${?ENV}</c> overrides.
/// </summary>
internal static class HoconRenderer
{
    public static string Render(HoconValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = new StringBuilder();
        Write(text, value, 0);
        return text.ToString();
    }

    private static void Write(StringBuilder text, HoconValue value, int depth)
    {
        switch (value)
        {
            case HoconObject obj:
                text.Append("{\n");
                foreach (var (key, field) in obj.Fields)
                {
                    text.Append(' ', (depth + 1) * 2).Append(HoconScalar.Quote(key)).Append(" = ");
                    Write(text, field, depth + 1);
                    text.Append('\n');
                }

                text.Append(' ', depth * 2).Append('}');
                break;
            case HoconArray array:
                text.Append('[');
                for (var i = 0; i < array.Items.Count; i++)
                {
                    text.Append(i == 0 ? "" : ", ");
                    Write(text, array.Items[i], depth + 1);
                }

                text.Append(']');
                break;
            case HoconScalar scalar:
                text.Append(scalar.Kind == HoconScalarKind.String ? HoconScalar.Quote(scalar.Text) : scalar.Text);
                break;
            default:
                throw new InvalidOperationException($"cannot render {value.Describe()}: the tree must be resolved first");
        }
    }
}
