// Test-only: the little of St.Widget the stubs need (visible, reactive, style classes, destroy),
// as a GObject so extensions can set properties, bind them and connect to notify.

import GObject from 'gi://GObject';

import {changed} from './changes.js';

export const Widget = GObject.registerClass({
    GTypeName: 'StubWidget',
    Properties: {
        'visible': GObject.ParamSpec.boolean('visible', null, null, GObject.ParamFlags.READWRITE, true),
        'reactive': GObject.ParamSpec.boolean('reactive', null, null, GObject.ParamFlags.READWRITE, true),
    },
    Signals: {'destroy': {}},
}, class Widget extends GObject.Object {
    _init(params = {}) {
        super._init(params);
        this.styleClasses = new Set();
        this.destroyed = false;
        this.connect('notify', () => changed());
    }

    add_style_class_name(name) {
        this.styleClasses.add(name);
        changed();
    }

    remove_style_class_name(name) {
        this.styleClasses.delete(name);
        changed();
    }

    has_style_class_name(name) {
        return this.styleClasses.has(name);
    }

    destroy() {
        if (this.destroyed)
            return;
        this.destroyed = true;
        this.emit('destroy');
        changed();
    }
});

/** An St.Label's text, as the menu items expose it (item.label.text). */
export class Label {
    #text;

    constructor(text) {
        this.#text = text ?? '';
    }

    get text() {
        return this.#text;
    }

    set text(text) {
        this.#text = text;
        changed();
    }
}
