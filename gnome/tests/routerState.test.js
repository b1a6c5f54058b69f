// The state model's rules, from tables: what the toggle shows for a given router state.
// Usage: gjs -m routerState.test.js EXTENSION_DIR. Prints "ok N - name" or "not ok N - name";
// exits 1 when any failed.

const [extensionPath] = ARGV;
const State = await import(`file://${extensionPath}/routerState.js`);

const running = {
    running: true,
    mode: 'balanced',
    effectiveMode: 'balanced',
    reason: 'set by the user',
    modes: [...State.DEFAULT_MODES],
    backends: [
        {id: 'ollama-npu', name: 'Ollama on NPU', hardware: 'npu', health: 'healthy'},
        {id: 'ollama-nvidia', name: 'Ollama on NVIDIA GPU', hardware: 'nvidia', health: 'healthy'},
        {id: 'ollama-cpu', name: 'Ollama on CPU', hardware: 'cpu', health: 'healthy'},
    ],
    lastBackend: '',
    hotDevices: [],
    throttling: false,
};
const shown = {showBackends: true};

let count = 0;
let failed = 0;

function check(name, actual, expected) {
    count++;
    const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)];
    if (a === e) {
        print(`ok ${count} - ${name}`);
    } else {
        failed++;
        print(`not ok ${count} - ${name}\n  expected: ${e}\n  actual:   ${a}`);
    }
}

// Subtitle: the mode in effect, and why when Auto decides.
for (const [name, snapshot, expected] of [
    ['not running', State.NOT_RUNNING_SNAPSHOT, 'Router not running'],
    ['manual mode', {...running, mode: 'quiet', effectiveMode: 'quiet'}, 'Quiet'],
    ['manual ultra efficiency', {...running, mode: 'ultra-efficiency', effectiveMode: 'ultra-efficiency'}, 'Ultra Efficiency'],
    ['auto on battery', {...running, mode: 'auto', effectiveMode: 'efficiency', reason: 'battery 35 %'}, 'Auto · Efficiency (battery 35 %)'],
    ['auto, the reason naming the mode', {...running, mode: 'auto', effectiveMode: 'efficiency', reason: 'battery 35% < 50%: efficiency'},
        'Auto · Efficiency (battery 35% < 50%)'],
    ['auto without a reason', {...running, mode: 'auto', effectiveMode: 'performance', reason: ''}, 'Auto · Performance'],
    ['a mode this version does not know', {...running, mode: 'turbo', effectiveMode: 'turbo'}, 'turbo'],
])
    check(`subtitle: ${name}`, State.subtitle(snapshot), expected);

// A click on the toggle switches between Auto and the last manual mode.
for (const [mode, last, expected] of [
    ['quiet', 'balanced', 'auto'],
    ['auto', 'quiet', 'quiet'],
    ['auto', '', 'balanced'],
    ['auto', 'auto', 'balanced'],
])
    check(`click from ${mode} (last manual ${last || 'none'})`, State.modeAfterClick(mode, last), expected);

// Warning line: hot devices by name, and throttling.
for (const [name, snapshot, expected] of [
    ['nothing hot', running, null],
    ['one hot device', {...running, hotDevices: ['ollama-nvidia']}, 'Hot: Ollama on NVIDIA GPU'],
    ['two hot devices', {...running, hotDevices: ['ollama-nvidia', 'ollama-cpu']}, 'Hot: Ollama on NVIDIA GPU, Ollama on CPU'],
    ['throttling', {...running, throttling: true}, 'Throttling'],
    ['hot and throttling', {...running, hotDevices: ['ollama-cpu'], throttling: true}, 'Hot: Ollama on CPU · Throttling'],
    ['an unlisted device', {...running, hotDevices: ['gpu1']}, 'Hot: gpu1'],
    ['not running', {...State.NOT_RUNNING_SNAPSHOT, throttling: true}, null],
])
    check(`warning: ${name}`, State.warning(snapshot), expected);

// The whole view.
{
    const view = State.describe(State.NOT_RUNNING_SNAPSHOT, shown);
    check('not running: insensitive, unchecked', [view.sensitive, view.checked], [false, false]);
    check('not running: the header says so', view.header.subtitle, 'Router not running');
    check('not running: still six modes, none checked', view.modes.map(m => m.checked), [false, false, false, false, false, false]);
    check('not running: no backends, no panel icon', [view.backendsVisible, view.panelIcon.visible], [false, false]);
}
{
    const view = State.describe({...running, mode: 'quiet', effectiveMode: 'quiet'}, shown);
    check('six modes in menu order, each with an icon',
        view.modes.map(m => [m.label, m.iconName !== '']),
        [['Performance', true], ['Balanced', true], ['Efficiency', true], ['Quiet', true], ['Ultra Efficiency', true], ['Auto', true]]);
    check('the set mode is checked', view.modes.filter(m => m.checked).map(m => m.id), ['quiet']);
    check('manual mode: sensitive, unchecked', [view.sensitive, view.checked], [true, false]);
    check('header counts healthy backends', view.header.subtitle, 'Router running · 3 of 3 backends healthy');
}
{
    const view = State.describe({...running, mode: 'auto', effectiveMode: 'efficiency', reason: 'battery 35 %'}, shown);
    check('auto: checked, and Auto is the checked item', [view.checked, view.modes.find(m => m.checked).id], [true, 'auto']);
    check('auto: the icon is the mode in effect', view.iconName, 'power-profile-power-saver-symbolic');
}
for (const [effective, visible] of [
    ['performance', false], ['balanced', false], ['efficiency', true], ['quiet', true], ['ultra-efficiency', true],
]) {
    const view = State.describe({...running, mode: 'auto', effectiveMode: effective}, shown);
    check(`panel icon while ${effective} is in effect`, [view.panelIcon.visible, view.panelIcon.iconName],
        [visible, State.modeIcon(effective)]);
}
{
    const snapshot = {
        ...running,
        lastBackend: 'ollama-nvidia',
        backends: running.backends.map(b => b.id === 'ollama-cpu' ? {...b, health: 'ejected'} : b),
    };
    const view = State.describe(snapshot, shown);
    check('backend rows: health dot classes', view.backends.map(b => b.styleClass),
        ['ai-efficiency-health-healthy', 'ai-efficiency-health-healthy', 'ai-efficiency-health-ejected']);
    check('backend rows: the last one served is marked', view.backends.map(b => b.label), [
        'Ollama on NPU · healthy',
        'Ollama on NVIDIA GPU · healthy · served the last request',
        'Ollama on CPU · ejected',
    ]);
    check('header counts the ejected one out', view.header.subtitle, 'Router running · 2 of 3 backends healthy');
    check('backends hidden by the preference', State.describe(snapshot, {showBackends: false}).backendsVisible, false);
}
check('modes the router lists come first', State.describe({...running, modes: ['balanced', 'auto']}, shown).modes.map(m => m.id),
    ['balanced', 'auto']);
check('down means unhealthy or ejected', ['unknown', 'healthy', 'degraded', 'unhealthy', 'ejected'].map(State.isDown),
    [false, false, false, true, true]);

print(`# ${count - failed} of ${count} checks held`);
if (failed > 0)
    imports.system.exit(1);
