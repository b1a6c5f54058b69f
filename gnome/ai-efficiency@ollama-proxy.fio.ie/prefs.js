// The extension's preferences (Adw): whether the menu lists the backends, and whether the
// extension notifies. Both are keys of the shipped schema, read by extension.js as they change.

import Adw from 'gi://Adw';
import Gio from 'gi://Gio';

import {ExtensionPreferences} from 'resource:///org/gnome/Shell/Extensions/js/extensions/prefs.js';

export default class AiEfficiencyPreferences extends ExtensionPreferences {
    fillPreferencesWindow(window) {
        const settings = this.getSettings();
        // The window outlives this call; the bindings need the settings object alive as long.
        window._settings = settings;

        const page = new Adw.PreferencesPage({
            title: 'AI Efficiency',
            icon_name: 'power-profile-balanced-symbolic',
        });
        window.add(page);

        const menu = new Adw.PreferencesGroup({
            title: 'Quick Settings menu',
            description: 'The toggle talks to the ollama-proxy daemon on the session bus (ie.fio.OllamaProxy).',
        });
        page.add(menu);

        const showBackends = new Adw.SwitchRow({
            title: 'Show backends',
            subtitle: 'List each backend with its health, and mark the one that served the last request',
        });
        settings.bind('show-backends', showBackends, 'active', Gio.SettingsBindFlags.DEFAULT);
        menu.add(showBackends);

        const notifications = new Adw.PreferencesGroup({title: 'Notifications'});
        page.add(notifications);

        const notify = new Adw.SwitchRow({
            title: 'Notify',
            subtitle: 'When a backend goes down (the router itself notifies Auto’s changes)',
        });
        settings.bind('notifications', notify, 'active', Gio.SettingsBindFlags.DEFAULT);
        notifications.add(notify);
    }
}
