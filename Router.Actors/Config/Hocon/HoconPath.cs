using System.Text;

namespace Router.Actors.Config.Hocon;

/// <summary>Path expressions (<c>a.b."c.d"</c>): keys joined by dots, quoted keys may hold dots.</summary>
internal static class HoconPath
{
    public static string Render(IReadOnlyList<string> path)
    {
        var text = new StringBuilder();
        for (var i = 0; i < path.Count; i++)
        {
            if (i > 0)
            {
                text.Append('.');
            }

            var key = path[i];
            var plain = key.Length > 0;
            foreach (var c in key)
            {
                if (c == '.' || char.IsWhiteSpace(c) || HoconTokenizer.IsForbiddenInUnquoted(c))
                {
                    plain = false;
                    break;
                }
            }

            text.Append(plain ? key : HoconScalar.Quote(key));
        }

        return text.ToString();
    }
}
