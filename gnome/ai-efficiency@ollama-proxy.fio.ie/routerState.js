// What the toggle shows, decided from what the router says. Plain functions over plain values:
// no shell and no D-Bus here, so every rule is tested from tables (gnome/tests/routerState.test.js).

/** The six modes in the router's menu order, used until the router has told its own. */
export const DEFAULT_MODES = ['performance', 'balanced', 'efficiency', 'quiet', 'ultra-efficiency', 'auto'];

const MODE_PARAMS = {
    'performance': {label: 'Performance', iconName: 'power-profile-performance-symbolic'},
    'balanced': {label: 'Balanced', iconName: 'power-profile-balanced-symbolic'},
    'efficiency': {label: 'Efficiency', iconName: 'power-profile-power-saver-symbolic'},
    'quiet': {label: 'Quiet', iconName: 'audio-volume-low-symbolic'},
    'ultra-efficiency': {label: 'Ultra Efficiency', iconName: 'battery-level-10-symbolic'},
    'auto': {label: 'Auto', iconName: 'emblem-synchronizing-symbolic'},
};

/** A mode this version does not know yet (the contract only ever adds members). */
const UNKNOWN_MODE_ICON = 'dialog-question-symbolic';

/** The title the toggle and its menu carry. */
export const TITLE = 'AI Efficiency';

/** What the toggle reads while nobody owns ie.fio.OllamaProxy on the session bus. */
export const NOT_RUNNING = 'Router not running';

/** The health dot: one symbolic circle, coloured by a style class per health (stylesheet.css). */
export const HEALTH_DOT_ICON = 'media-record-symbolic';

const WARNING_ICON = 'dialog-warning-symbolic';

// Like the power profiles indicator, the panel shows an icon only while the machine is held back:
// the fast modes are the unremarkable state.
const MODES_WITHOUT_PANEL_ICON = new Set(['performance', 'balanced']);

// A backend in one of these can take no requests.
const DOWN_HEALTH = new Set(['unhealthy', 'ejected']);

/**
 * @param {string} mode - a mode id
 * @returns {string} the mode's name as the menu shows it
 */
export function modeLabel(mode) {
    return MODE_PARAMS[mode]?.label ?? mode;
}

/**
 * @param {string} mode - a mode id
 * @returns {string} the mode's symbolic icon name
 */
export function modeIcon(mode) {
    return MODE_PARAMS[mode]?.iconName ?? UNKNOWN_MODE_ICON;
}

/**
 * @param {string} health - a health id (unknown, healthy, degraded, unhealthy, ejected)
 * @returns {boolean} whether a backend in this health can serve nothing
 */
export function isDown(health) {
    return DOWN_HEALTH.has(health);
}

/**
 * The router as the extension last heard it; the D-Bus client keeps one up to date.
 *
 * @typedef {object} RouterSnapshot
 * @property {boolean} running - someone owns ie.fio.OllamaProxy and its objects answered
 * @property {string} mode - the mode the user chose
 * @property {string} effectiveMode - the mode in effect
 * @property {string} reason - why the mode in effect is what it is
 * @property {string[]} modes - every mode id in menu order
 * @property {{id: string, name: string, hardware: string, health: string}[]} backends - in configuration order
 * @property {string} lastBackend - the backend that served the latest request, "" before the first
 * @property {string[]} hotDevices - backend ids above their hot threshold
 * @property {boolean} throttling - whether a device is throttling
 */

/** @type {RouterSnapshot} */
export const NOT_RUNNING_SNAPSHOT = Object.freeze({
    running: false,
    mode: '',
    effectiveMode: '',
    reason: '',
    modes: [],
    backends: [],
    lastBackend: '',
    hotDevices: [],
    throttling: false,
});

/**
 * The toggle's subtitle: the mode in effect, and why when Auto decides.
 *
 * @param {RouterSnapshot} snapshot - the router's state
 * @returns {string} e.g. "Quiet", or "Auto · Efficiency (battery 35 %)"
 */
export function subtitle(snapshot) {
    if (!snapshot.running)
        return NOT_RUNNING;
    if (snapshot.mode !== 'auto')
        return modeLabel(snapshot.mode);

    const effective = `Auto · ${modeLabel(snapshot.effectiveMode)}`;
    // The router's reasons may end by naming the mode ("battery 35% < 50%: efficiency"), which
    // the subtitle already says.
    const suffix = `: ${snapshot.effectiveMode}`;
    const reason = snapshot.reason.endsWith(suffix) ? snapshot.reason.slice(0, -suffix.length) : snapshot.reason;
    return reason ? `${effective} (${reason})` : effective;
}

/**
 * The warning line: which devices are hot, and whether the machine throttles.
 *
 * @param {RouterSnapshot} snapshot - the router's state
 * @returns {string|null} e.g. "Hot: Ollama on CPU · Throttling", or null when nothing is hot or throttling
 */
export function warning(snapshot) {
    if (!snapshot.running)
        return null;

    const parts = [];
    if (snapshot.hotDevices.length > 0) {
        const names = snapshot.hotDevices.map(id => snapshot.backends.find(b => b.id === id)?.name ?? id);
        parts.push(`Hot: ${names.join(', ')}`);
    }
    if (snapshot.throttling)
        parts.push('Throttling');
    return parts.length > 0 ? parts.join(' · ') : null;
}

/**
 * The mode a click on the toggle itself sets: it switches between Auto and the last manual mode.
 *
 * @param {string} mode - the mode the user chose
 * @param {string} lastManualMode - the manual mode chosen most recently
 * @returns {string} the mode to set
 */
export function modeAfterClick(mode, lastManualMode) {
    if (mode !== 'auto')
        return 'auto';
    return lastManualMode && lastManualMode !== 'auto' ? lastManualMode : 'balanced';
}

/**
 * Everything the widgets show, from one snapshot; the indicator applies it in one place.
 *
 * @param {RouterSnapshot} snapshot - the router's state
 * @param {{showBackends: boolean}} preferences - the extension's settings
 * @returns {object} the view
 */
export function describe(snapshot, preferences) {
    const {running} = snapshot;
    const modes = running && snapshot.modes.length > 0 ? snapshot.modes : DEFAULT_MODES;
    const healthy = snapshot.backends.filter(b => b.health === 'healthy').length;
    const iconName = running ? modeIcon(snapshot.effectiveMode) : modeIcon('auto');

    return {
        sensitive: running,
        checked: running && snapshot.mode === 'auto',
        subtitle: subtitle(snapshot),
        iconName,
        header: {
            iconName,
            title: TITLE,
            subtitle: running
                ? `Router running · ${healthy} of ${snapshot.backends.length} backends healthy`
                : NOT_RUNNING,
        },
        modes: modes.map(id => ({
            id,
            label: modeLabel(id),
            iconName: modeIcon(id),
            checked: running && id === snapshot.mode,
        })),
        backendsVisible: running && preferences.showBackends && snapshot.backends.length > 0,
        backends: snapshot.backends.map(b => {
            const lastServed = b.id === snapshot.lastBackend;
            return {
                id: b.id,
                label: `${b.name} · ${b.health}${lastServed ? ' · served the last request' : ''}`,
                iconName: HEALTH_DOT_ICON,
                styleClass: `ai-efficiency-health-${b.health}`,
                health: b.health,
                lastServed,
            };
        }),
        warning: warning(snapshot),
        warningIconName: WARNING_ICON,
        panelIcon: {
            visible: running && !MODES_WITHOUT_PANEL_ICON.has(snapshot.effectiveMode),
            iconName,
        },
    };
}
