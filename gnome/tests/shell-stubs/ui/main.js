// Test stub of resource:///org/gnome/shell/ui/main.js: the Quick Settings menu that takes external
// indicators, and notify(), recording what the extension does with them.

import {changed} from '../testing/changes.js';

export const notifications = [];

/**
 * @param {string} title - the notification's title
 * @param {string} body - its text
 */
export function notify(title, body) {
    notifications.push({title, body});
    changed();
}

class QuickSettings {
    constructor() {
        this.indicators = [];
    }

    addExternalIndicator(indicator, colSpan = 1) {
        if (!Number.isInteger(colSpan) || colSpan < 1)
            throw new Error(`colSpan must be a positive integer, not ${colSpan}`);
        this.indicators.push(indicator);
        indicator.connect('destroy', () => {
            this.indicators = this.indicators.filter(i => i !== indicator);
            changed();
        });
        changed();
    }
}

export const panel = {statusArea: {quickSettings: new QuickSettings()}};
