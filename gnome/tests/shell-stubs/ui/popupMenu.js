// Test stub of resource:///org/gnome/shell/ui/popupMenu.js: the menu items the extension builds,
// recording what they show. Only the API GNOME Shell 45–49 has.

import GObject from 'gi://GObject';

import {changed} from '../testing/changes.js';
import {Label, Widget} from '../testing/widget.js';

export const Ornament = {NONE: 0, DOT: 1, CHECK: 2, HIDDEN: 3};

// What PopupBaseMenuItem's constructor takes in the shell.
const BASE_ITEM_PARAMS = new Set(['reactive', 'activate', 'hover', 'style_class', 'can_focus']);

export const PopupBaseMenuItem = GObject.registerClass({
    GTypeName: 'StubPopupBaseMenuItem',
    Signals: {'activate': {}},
}, class PopupBaseMenuItem extends Widget {
    _init(params = {}) {
        const unknown = Object.keys(params).filter(key => !BASE_ITEM_PARAMS.has(key));
        if (unknown.length > 0)
            throw new Error(`PopupBaseMenuItem has no parameter ${unknown.join(', ')}`);
        super._init({reactive: params.reactive ?? true});
        this.ornament = Ornament.NONE;
    }

    setOrnament(ornament) {
        this.ornament = ornament;
        changed();
    }

    activate() {
        this.emit('activate');
    }
});

export const PopupMenuItem = GObject.registerClass({
    GTypeName: 'StubPopupMenuItem',
}, class PopupMenuItem extends PopupBaseMenuItem {
    _init(text, params) {
        super._init(params);
        this.label = new Label(text);
    }
});

export const PopupImageMenuItem = GObject.registerClass({
    GTypeName: 'StubPopupImageMenuItem',
}, class PopupImageMenuItem extends PopupBaseMenuItem {
    _init(text, icon, params) {
        super._init(params);
        this.label = new Label(text);
        this.iconName = icon;
    }

    setIcon(icon) {
        this.iconName = icon;
        changed();
    }
});

export const PopupSeparatorMenuItem = GObject.registerClass({
    GTypeName: 'StubPopupSeparatorMenuItem',
}, class PopupSeparatorMenuItem extends PopupBaseMenuItem {
    _init(text = '') {
        super._init({reactive: false});
        this.label = new Label(text);
    }
});

/** What PopupMenuBase offers: items in order, actions, removal. */
export class PopupMenuBase {
    constructor() {
        this.items = [];
    }

    addMenuItem(item) {
        this.items.push(item);
        const remove = () => {
            this.items = this.items.filter(i => i !== item);
            changed();
        };
        if (item instanceof PopupMenuSection)
            item.onDestroy = remove;
        else
            item.connect('destroy', remove);
        changed();
    }

    addAction(title, callback, icon) {
        const item = icon
            ? new PopupImageMenuItem(title, icon)
            : new PopupMenuItem(title);
        item.connect('activate', () => callback());
        this.addMenuItem(item);
        return item;
    }

    removeAll() {
        for (const item of [...this.items])
            item.destroy();
    }

    destroy() {
        this.removeAll();
        this.onDestroy?.();
    }
}

export class PopupMenuSection extends PopupMenuBase {
    constructor() {
        super();
        this.actor = new Widget();
        this.box = this.actor;
    }
}
