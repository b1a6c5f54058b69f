using System.Globalization;
using System.Text;
using Router.Actors.Routing;
using Router.Actors.Runtime;

namespace Router.Gateway.Cli;

/// <summary>Renders the actor tree snapshot as an indented text tree.</summary>
internal static class ActorTreeText
{
    public static string Render(ActorTreeSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var text = new StringBuilder();
        Render(text, snapshot.Root, "", true, isRoot: true);
        text.Append(CultureInfo.InvariantCulture, $"dead letters: {snapshot.DeadLetters}\n");
        return text.ToString();
    }

    private static void Render(StringBuilder text, ActorNodeSnapshot node, string indent, bool last, bool isRoot)
    {
        text.Append(indent);
        if (!isRoot)
        {
            text.Append(last ? "└─ " : "├─ ");
        }

        text.Append(node.Path).Append("  ").Append(node.ActorType).Append(" [").Append(node.MailboxKind);
        foreach (var lane in node.Lanes)
        {
            if (lane.Depth > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $" {lane.Lane}:{lane.Depth}");
            }
        }

        text.Append(CultureInfo.InvariantCulture, $"] processed {node.MessagesProcessed}");
        if (node.Restarts > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" restarts {node.Restarts}");
        }

        if (node.LastFailure is { } failure)
        {
            text.Append(" last failure: ").Append(failure);
        }

        text.Append('\n');
        var childIndent = isRoot ? "" : indent + (last ? "   " : "│  ");
        for (var i = 0; i < node.Children.Length; i++)
        {
            Render(text, node.Children[i], childIndent, i == node.Children.Length - 1, isRoot: false);
        }
    }
}
