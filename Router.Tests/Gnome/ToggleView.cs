using System.Collections.Immutable;
using System.Text.Json;

namespace Router.Tests.Gnome;

/// <summary>
/// What the shell would show, as toggle-driver.js reports it from the stub widgets: the
/// indicators in Quick Settings, the toggle, its menu, the panel icon, notifications.
/// </summary>
internal sealed class ToggleView(JsonElement root)
{
    public sealed record MenuItem(string Text, string? IconName, string Ornament, bool Visible, bool Reactive, ImmutableArray<string> StyleClasses);

    public sealed record Notification(string Title, string Body);

    public int IndicatorCount => root.GetProperty("indicators").GetArrayLength();

    private JsonElement Indicator => root.GetProperty("indicators")[0];

    private JsonElement Toggle => Indicator.GetProperty("toggles")[0];

    public string Title => Toggle.GetProperty("title").GetString()!;

    public string Subtitle => Toggle.GetProperty("subtitle").GetString()!;

    public bool Checked => Toggle.GetProperty("checked").GetBoolean();

    /// <summary>Whether the toggle takes clicks (false: insensitive).</summary>
    public bool Sensitive => Toggle.GetProperty("reactive").GetBoolean();

    public string IconName => Toggle.GetProperty("iconName").GetString()!;

    public string HeaderTitle => Toggle.GetProperty("header").GetProperty("title").GetString()!;

    public string HeaderSubtitle => Toggle.GetProperty("header").GetProperty("subtitle").GetString()!;

    private JsonElement.ArrayEnumerator Menu => Toggle.GetProperty("menu").EnumerateArray();

    /// <summary>The items of the menu's first section: the modes.</summary>
    public ImmutableArray<MenuItem> Modes => [.. Menu.First(e => e.GetProperty("kind").GetString() == "section").GetProperty("items").EnumerateArray().Select(ToItem)];

    public string[] CheckedModes => [.. Modes.Where(m => m.Ornament == "check").Select(m => m.Text)];

    /// <summary>Whether the section after the "Backends" separator shows.</summary>
    public bool BackendsVisible => BackendSection.GetProperty("visible").GetBoolean();

    public ImmutableArray<MenuItem> Backends => [.. BackendSection.GetProperty("items").EnumerateArray().Select(ToItem)];

    private JsonElement BackendSection
    {
        get
        {
            var menu = Menu.ToList();
            var separator = menu.FindIndex(e => e.GetProperty("kind").GetString() == "separator" && e.GetProperty("text").GetString() == "Backends");
            Assert.True(separator >= 0 && separator + 1 < menu.Count, "the menu has no Backends section: " + root);
            return menu[separator + 1];
        }
    }

    /// <summary>The row of the backend whose name starts the row's text.</summary>
    public MenuItem Backend(string name) => Backends.Single(b => b.Text.StartsWith(name + " · ", StringComparison.Ordinal));

    /// <summary>The warning line's text, or null while it is hidden.</summary>
    public string? Warning
    {
        get
        {
            var warning = Menu.Where(e => e.GetProperty("kind").GetString() == "item").Select(ToItem)
                .Single(i => i.IconName == "dialog-warning-symbolic");
            return warning.Visible ? warning.Text : null;
        }
    }

    public MenuItem Item(string text) => Menu.Where(e => e.GetProperty("kind").GetString() == "item").Select(ToItem).Single(i => i.Text == text);

    public bool PanelIconVisible => Indicator.GetProperty("panelIcons")[0].GetProperty("visible").GetBoolean();

    public string? PanelIconName => Indicator.GetProperty("panelIcons")[0].GetProperty("iconName").GetString();

    public ImmutableArray<Notification> Notifications => [.. root.GetProperty("notifications").EnumerateArray()
        .Select(n => new Notification(n.GetProperty("title").GetString()!, n.GetProperty("body").GetString()!))];

    public int PreferencesOpened => root.GetProperty("preferencesOpened").GetInt32();

    /// <summary>Running: sensitive, and the router's mode is checked.</summary>
    public bool ShowsRunning => IndicatorCount == 1 && Sensitive && CheckedModes.Length == 1;

    private static MenuItem ToItem(JsonElement e) => new(
        e.GetProperty("text").GetString()!,
        e.GetProperty("iconName").GetString(),
        e.GetProperty("ornament").GetString()!,
        e.GetProperty("visible").GetBoolean(),
        e.GetProperty("reactive").GetBoolean(),
        [.. e.GetProperty("styleClasses").EnumerateArray().Select(c => c.GetString()!)]);

    public override string ToString() => root.ToString();
}
