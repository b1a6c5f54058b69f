// Test stub of resource:///org/gnome/shell/ui/quickSettings.js: the toggle, its menu and the
// system indicator, as GObjects with the properties every GNOME Shell from 45 to 49 has. A property
// one of them lacks (GNOME 43's `label`, 49's `menu-button-accessible-name`) fails at construction
// as it would in that shell.

import GObject from 'gi://GObject';

import {changed} from '../testing/changes.js';
import {Widget} from '../testing/widget.js';
import {PopupMenuBase} from './popupMenu.js';

class QuickToggleMenu extends PopupMenuBase {
    constructor(sourceActor) {
        super();
        this.sourceActor = sourceActor;
        this.header = null;
        this.isOpen = false;
    }

    setHeader(icon, title, subtitle = '') {
        this.header = {iconName: icon, title, subtitle};
        changed();
    }

    open() {
        this.isOpen = true;
        changed();
    }

    close() {
        this.isOpen = false;
        changed();
    }
}

export const QuickMenuToggle = GObject.registerClass({
    GTypeName: 'StubQuickMenuToggle',
    Properties: {
        'title': GObject.ParamSpec.string('title', null, null, GObject.ParamFlags.READWRITE, null),
        'subtitle': GObject.ParamSpec.string('subtitle', null, null, GObject.ParamFlags.READWRITE, null),
        'icon-name': GObject.ParamSpec.string('icon-name', null, null, GObject.ParamFlags.READWRITE, null),
        'checked': GObject.ParamSpec.boolean('checked', null, null, GObject.ParamFlags.READWRITE, false),
        'toggle-mode': GObject.ParamSpec.boolean('toggle-mode', null, null, GObject.ParamFlags.READWRITE, false),
        'menu-enabled': GObject.ParamSpec.boolean('menu-enabled', null, null, GObject.ParamFlags.READWRITE, true),
    },
    Signals: {'clicked': {param_types: [GObject.TYPE_INT]}},
}, class QuickMenuToggle extends Widget {
    _init(params) {
        super._init(params);
        this.menu = new QuickToggleMenu(this);
    }

    destroy() {
        this.menu.destroy();
        super.destroy();
    }
});

export const SystemIndicator = GObject.registerClass({
    GTypeName: 'StubSystemIndicator',
}, class SystemIndicator extends Widget {
    _init() {
        super._init({visible: false});
        this.quickSettingsItems = [];
        this.panelIcons = [];
    }

    _addIndicator() {
        const icon = new PanelIcon();
        this.panelIcons.push(icon);
        icon.connect('notify::visible', () => {
            this.visible = this.panelIcons.some(i => i.visible);
        });
        return icon;
    }

    destroy() {
        this.panelIcons.forEach(icon => icon.destroy());
        super.destroy();
    }
});

/** The St.Icon a SystemIndicator shows in the top bar. */
const PanelIcon = GObject.registerClass({
    GTypeName: 'StubPanelIcon',
    Properties: {
        'icon-name': GObject.ParamSpec.string('icon-name', null, null, GObject.ParamFlags.READWRITE, null),
    },
}, class PanelIcon extends Widget {});
