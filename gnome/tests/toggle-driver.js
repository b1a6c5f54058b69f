// Runs the real extension (an installed copy of the pack) under gjs with the shell's modules
// replaced by the stubs in shell-stubs/, on whatever session bus DBUS_SESSION_BUS_ADDRESS names.
// Router.Tests/Gnome drives it:
//   stdout: "state <json>" whenever what a user would see changes (the stub widgets' state, not
//           the extension's own model), "ack <command>" once a command is done, "error <text>".
//   stdin:  "activate <menu item text>" (as a click on a menu item), "click" (the toggle itself),
//           "set <key> <true|false|text>" (the extension's settings), "disable", "enable", "quit".
// Usage: gjs -m toggle-driver.js EXTENSION_DIR STUBS_GRESOURCE

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';

const [extensionPath, stubsPath] = ARGV;
if (!extensionPath || !stubsPath) {
    printerr('usage: gjs -m toggle-driver.js EXTENSION_DIR STUBS_GRESOURCE');
    imports.system.exit(2);
}

Gio.resources_register(Gio.Resource.load(stubsPath));
const Changes = await import('resource:///org/gnome/shell/testing/changes.js');
const Main = await import('resource:///org/gnome/shell/ui/main.js');
const PopupMenu = await import('resource:///org/gnome/shell/ui/popupMenu.js');
const {calls} = await import('resource:///org/gnome/shell/extensions/extension.js');

const dir = Gio.File.new_for_path(extensionPath);
const [, metadataBytes] = dir.get_child('metadata.json').load_contents(null);
// What the shell adds to metadata.json when it loads an extension.
const metadata = {
    ...JSON.parse(new TextDecoder().decode(metadataBytes)),
    dir,
    path: dir.get_path(),
};
const {default: ExtensionClass} = await import(`${dir.get_uri()}/extension.js`);
const extension = new ExtensionClass(metadata);

const ORNAMENTS = Object.fromEntries(Object.entries(PopupMenu.Ornament).map(([name, value]) => [value, name.toLowerCase()]));

function describeEntry(entry) {
    if (entry instanceof PopupMenu.PopupMenuSection) {
        return {
            kind: 'section',
            visible: entry.actor.visible,
            items: entry.items.map(describeEntry),
        };
    }
    return {
        kind: entry instanceof PopupMenu.PopupSeparatorMenuItem ? 'separator' : 'item',
        text: entry.label?.text ?? '',
        iconName: entry.iconName ?? null,
        ornament: ORNAMENTS[entry.ornament],
        visible: entry.visible,
        reactive: entry.reactive,
        styleClasses: [...entry.styleClasses],
    };
}

function describeToggle(toggle) {
    return {
        title: toggle.title,
        subtitle: toggle.subtitle,
        checked: toggle.checked,
        reactive: toggle.reactive,
        visible: toggle.visible,
        iconName: toggle.iconName,
        header: toggle.menu.header,
        menu: toggle.menu.items.map(describeEntry),
    };
}

function describeShell() {
    return {
        indicators: Main.panel.statusArea.quickSettings.indicators.map(indicator => ({
            visible: indicator.visible,
            panelIcons: indicator.panelIcons.map(icon => ({iconName: icon.iconName, visible: icon.visible})),
            toggles: indicator.quickSettingsItems.map(describeToggle),
        })),
        notifications: Main.notifications,
        preferencesOpened: calls.openPreferences,
    };
}

let lastPrinted = null;
let printPending = false;
Changes.subscribe(() => {
    if (printPending)
        return;
    // One line per burst of changes: a sync sets many properties in a row.
    printPending = true;
    GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
        printPending = false;
        const line = JSON.stringify(describeShell());
        if (line !== lastPrinted) {
            lastPrinted = line;
            print(`state ${line}`);
        }
        return GLib.SOURCE_REMOVE;
    });
});

function* allItems(entries) {
    for (const entry of entries) {
        if (entry instanceof PopupMenu.PopupMenuSection) {
            if (entry.actor.visible)
                yield* allItems(entry.items);
        } else {
            yield entry;
        }
    }
}

function theToggle() {
    const [indicator] = Main.panel.statusArea.quickSettings.indicators;
    if (!indicator)
        throw new Error('no indicator in Quick Settings');
    return indicator.quickSettingsItems[0];
}

const settings = () => extension.getSettings();
let enabled = false;

const commands = {
    activate(text) {
        // As a user would: the menu opens only from a sensitive toggle, and only a visible,
        // reactive item can be clicked.
        const toggle = theToggle();
        if (!toggle.reactive)
            throw new Error('the toggle is insensitive: its menu cannot be opened');
        const item = [...allItems(toggle.menu.items)].find(i => i.label?.text === text);
        if (!item)
            throw new Error(`no menu item "${text}"`);
        if (!item.visible || !item.reactive)
            throw new Error(`menu item "${text}" cannot be clicked (visible ${item.visible}, reactive ${item.reactive})`);
        item.activate();
    },
    click() {
        const toggle = theToggle();
        if (!toggle.reactive)
            throw new Error('the toggle is insensitive');
        toggle.emit('clicked', 1);
    },
    set(key, value) {
        if (value === 'true' || value === 'false')
            settings().set_boolean(key, value === 'true');
        else
            settings().set_string(key, value);
    },
    enable() {
        extension.enable();
        enabled = true;
    },
    disable() {
        extension.disable();
        enabled = false;
    },
};

// No nested GLib.MainLoop: this module is still evaluating (top-level await), and gjs 1.74 runs
// no promise jobs inside a loop nested there. Awaiting a promise lets gjs's own loop run, jobs too.
let quit;
const quitting = new Promise(resolve => (quit = resolve));
const input = new Gio.DataInputStream({
    base_stream: new Gio.UnixInputStream({fd: 0, close_fd: false}),
});

function readCommand() {
    input.read_line_async(GLib.PRIORITY_DEFAULT, null, (stream, result) => {
        const [bytes] = stream.read_line_finish_utf8(result);
        if (bytes === null || bytes === 'quit') {
            quit();
            return;
        }
        const [name, ...args] = bytes.split(' ');
        const rest = args.join(' ');
        try {
            const command = commands[name];
            if (!command)
                throw new Error(`unknown command "${name}"`);
            if (name === 'set')
                command(args[0], args.slice(1).join(' '));
            else
                command(rest);
            print(`ack ${bytes}`);
        } catch (e) {
            print(`error ${bytes}: ${e.message}`);
        }
        readCommand();
    });
}

commands.enable();
Changes.changed();
readCommand();
await quitting;
if (enabled)
    commands.disable();
