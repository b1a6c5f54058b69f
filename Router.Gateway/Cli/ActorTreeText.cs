using System.Globalization;
using System.Text;
using Router.Actors.Routing;
using Router.Actors.Inspection;

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

        text.Append(node.Path).Append("  ").Append(node.ActorType)
            .Append(" [").Append(node.MailboxType).Append(CultureInfo.InvariantCulture, $", {node.MessagesWaiting} waiting]");
        if (node.Restarts > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" restarts {node.Restarts}");
        }

        if (node.LastFailure is { } failure)
        {
            text.Append(" last failure: ").Append(failure);
            if (node.LastFailureAt is { } at)
            {
                text.Append(CultureInfo.InvariantCulture, $" at {at:u}");
            }
        }

        text.Append('\n');
        var childIndent = isRoot ? "" : indent + (last ? "   " : "│  ");
        for (var i = 0; i < node.Children.Length; i++)
        {
            Render(text, node.Children[i], childIndent, i == node.Children.Length - 1, isRoot: false);
        }
    }
}
