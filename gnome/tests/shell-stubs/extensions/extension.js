// Test stub of resource:///org/gnome/shell/extensions/extension.js (GNOME Shell 45–49): the
// Extension base class with its metadata, settings from the extension's own schemas folder (as the
// shell reads them) and a record of openPreferences() calls.

import Gio from 'gi://Gio';

import {changed} from '../testing/changes.js';

export const calls = {openPreferences: 0};

export class Extension {
    constructor(metadata) {
        if (!metadata)
            throw new Error(`${this.constructor.name} did not pass metadata to parent`);
        this.metadata = metadata;
    }

    get uuid() {
        return this.metadata['uuid'];
    }

    get dir() {
        return this.metadata['dir'];
    }

    get path() {
        return this.metadata['path'];
    }

    getSettings(schema) {
        schema ||= this.metadata['settings-schema'];
        const source = Gio.SettingsSchemaSource.new_from_directory(
            this.dir.get_child('schemas').get_path(), Gio.SettingsSchemaSource.get_default(), false);
        const schemaObj = source.lookup(schema, true);
        if (!schemaObj)
            throw new Error(`Schema ${schema} could not be found for extension ${this.uuid}`);
        return new Gio.Settings({settings_schema: schemaObj});
    }

    openPreferences() {
        calls.openPreferences++;
        changed();
    }

    enable() {
    }

    disable() {
    }
}

export const gettext = text => text;
export const ngettext = (text, plural, n) => n === 1 ? text : plural;
export const pgettext = (_context, text) => text;
