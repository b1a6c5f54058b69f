// The "AI Efficiency" toggle in Quick Settings: the router's six modes, the mode in effect and
// why, its backends' health, and a panel icon while a frugal mode is in effect. It talks only to
// ie.fio.OllamaProxy on the session bus (routerClient.js); what to show is decided in
// routerState.js, and applied here in one place, Indicator._sync().

import Gio from 'gi://Gio';
import GObject from 'gi://GObject';

import * as Main from 'resource:///org/gnome/shell/ui/main.js';
import * as PopupMenu from 'resource:///org/gnome/shell/ui/popupMenu.js';
import {QuickMenuToggle, SystemIndicator} from 'resource:///org/gnome/shell/ui/quickSettings.js';
import {Extension} from 'resource:///org/gnome/shell/extensions/extension.js';

import {RouterClient, loadInterfaces} from './routerClient.js';
import * as RouterState from './routerState.js';

const LAST_MANUAL_MODE_KEY = 'last-manual-mode';
const SHOW_BACKENDS_KEY = 'show-backends';
const NOTIFICATIONS_KEY = 'notifications';

const AiEfficiencyToggle = GObject.registerClass(
class AiEfficiencyToggle extends QuickMenuToggle {
    _init(openPreferences) {
        // Only what QuickMenuToggle takes in every version from 45 to 49 (49 added more).
        super._init({title: RouterState.TITLE});

        this._modeItems = new Map();
        this._backendItems = new Map();
        this._healthStyleClasses = new Map();

        this._modeSection = new PopupMenu.PopupMenuSection();
        this.menu.addMenuItem(this._modeSection);

        this._warningItem = new PopupMenu.PopupImageMenuItem('', 'dialog-warning-symbolic', {
            reactive: false,
        });
        this._warningItem.visible = false;
        this.menu.addMenuItem(this._warningItem);

        this._backendSeparator = new PopupMenu.PopupSeparatorMenuItem('Backends');
        this.menu.addMenuItem(this._backendSeparator);
        this._backendSection = new PopupMenu.PopupMenuSection();
        this.menu.addMenuItem(this._backendSection);

        this.menu.addMenuItem(new PopupMenu.PopupSeparatorMenuItem());
        this.menu.addAction('Router settings', openPreferences);
    }

    /**
     * @param {object[]} modes - the view's modes
     * @param {function(string):void} choose - sets a mode
     */
    syncModes(modes, choose) {
        const ids = modes.map(m => m.id);
        if (ids.join() !== [...this._modeItems.keys()].join()) {
            this._modeSection.removeAll();
            this._modeItems.clear();
            for (const {id, label, iconName} of modes) {
                const item = new PopupMenu.PopupImageMenuItem(label, iconName);
                item.connect('activate', () => choose(id));
                this._modeItems.set(id, item);
                this._modeSection.addMenuItem(item);
            }
        }

        for (const {id, checked} of modes) {
            this._modeItems.get(id).setOrnament(checked
                ? PopupMenu.Ornament.CHECK
                : PopupMenu.Ornament.NONE);
        }
    }

    /**
     * @param {object[]} backends - the view's backend rows
     * @param {boolean} visible - whether the section shows
     */
    syncBackends(backends, visible) {
        const ids = backends.map(b => b.id);
        if (ids.join() !== [...this._backendItems.keys()].join()) {
            this._backendSection.removeAll();
            this._backendItems.clear();
            this._healthStyleClasses.clear();
            for (const {id, iconName} of backends) {
                const item = new PopupMenu.PopupImageMenuItem('', iconName, {reactive: false});
                this._backendItems.set(id, item);
                this._backendSection.addMenuItem(item);
            }
        }

        for (const {id, label, styleClass} of backends) {
            const item = this._backendItems.get(id);
            item.label.text = label;
            const previous = this._healthStyleClasses.get(id);
            if (previous !== styleClass) {
                if (previous)
                    item.remove_style_class_name(previous);
                item.add_style_class_name(styleClass);
                this._healthStyleClasses.set(id, styleClass);
            }
        }

        this._backendSeparator.visible = visible;
        this._backendSection.actor.visible = visible;
    }

    /** @param {string|null} text - the warning line, or null to hide it */
    syncWarning(text) {
        this._warningItem.label.text = text ?? '';
        this._warningItem.visible = text !== null;
    }
});

const Indicator = GObject.registerClass(
class Indicator extends SystemIndicator {
    _init(extension) {
        super._init();

        this._settings = extension.getSettings();
        this._panelIcon = this._addIndicator();
        this._toggle = new AiEfficiencyToggle(() => extension.openPreferences());
        this.quickSettingsItems.push(this._toggle);

        this._snapshot = RouterState.NOT_RUNNING_SNAPSHOT;
        this._toggle.connect('clicked', () => {
            const mode = RouterState.modeAfterClick(this._snapshot.mode,
                this._settings.get_string(LAST_MANUAL_MODE_KEY));
            this._setMode(mode);
        });
        this._settingsChangedId = this._settings.connect(`changed::${SHOW_BACKENDS_KEY}`,
            () => this._sync());

        this._client = new RouterClient(Gio.DBus.session, loadInterfaces(extension.dir), {
            onChanged: snapshot => {
                this._snapshot = snapshot;
                this._sync();
            },
            onEvent: event => this._notify(event),
            onError: error => console.error(`${extension.uuid}: ${error.message}`),
        });
        this._client.start();

        this.connect('destroy', () => this._onDestroy());
    }

    _setMode(mode) {
        this._client.setMode(mode).catch(error =>
            console.error(`AI Efficiency: could not set mode ${mode}: ${error.message}`));
    }

    _sync() {
        const view = RouterState.describe(this._snapshot, {
            showBackends: this._settings.get_boolean(SHOW_BACKENDS_KEY),
        });

        this._toggle.set({
            reactive: view.sensitive,
            checked: view.checked,
            subtitle: view.subtitle,
            iconName: view.iconName,
        });
        this._toggle.menu.setHeader(view.header.iconName, view.header.title, view.header.subtitle);
        this._toggle.syncModes(view.modes, mode => this._setMode(mode));
        this._toggle.syncBackends(view.backends, view.backendsVisible);
        this._toggle.syncWarning(view.warning);
        this._panelIcon.set({
            visible: view.panelIcon.visible,
            iconName: view.panelIcon.iconName,
        });

        // Like power profiles, the toggle remembers the manual mode it switches back to.
        if (this._snapshot.running && this._snapshot.mode && this._snapshot.mode !== 'auto' &&
            this._settings.get_string(LAST_MANUAL_MODE_KEY) !== this._snapshot.mode)
            this._settings.set_string(LAST_MANUAL_MODE_KEY, this._snapshot.mode);
    }

    _notify(event) {
        // Auto's changes and devices over their limit are the daemon's own notifications
        // (desktop.notifications in router.conf); a backend going down is the extension's.
        if (event.kind !== 'backend-health' || !RouterState.isDown(event.health) ||
            !this._settings.get_boolean(NOTIFICATIONS_KEY))
            return;
        Main.notify(`${event.name} is ${event.health}`,
            event.message || 'The router sends its requests to the other backends.');
    }

    _onDestroy() {
        this._client.destroy();
        this._settings.disconnect(this._settingsChangedId);
        this.quickSettingsItems.forEach(item => item.destroy());
        this.quickSettingsItems = [];
    }
});

export default class AiEfficiencyExtension extends Extension {
    enable() {
        this._indicator = new Indicator(this);
        Main.panel.statusArea.quickSettings.addExternalIndicator(this._indicator);
    }

    disable() {
        this._indicator.destroy();
        this._indicator = null;
    }
}
