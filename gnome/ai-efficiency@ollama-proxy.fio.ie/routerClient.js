// The router on the session bus, as one RouterSnapshot kept up to date. It watches the owner of
// ie.fio.OllamaProxy; while there is one it holds a proxy per object, built from the shipped
// introspection XML, and follows PropertiesChanged and the signals. It never polls. No shell
// imports: the tests drive it against the real daemon without a shell.

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';

import {NOT_RUNNING_SNAPSHOT} from './routerState.js';

export const BUS_NAME = 'ie.fio.OllamaProxy';

/** The contract's file name; scripts/pack-gnome-extension copies it from Router.DBus/Interfaces. */
export const INTERFACE_FILE = 'ie.fio.OllamaProxy.xml';

const OBJECT_ROOT = '/ie/fio/OllamaProxy';

// Every object the extension reads; each is /ie/fio/OllamaProxy/<Name> with ie.fio.OllamaProxy.<Name>.
const OBJECTS = ['Efficiency', 'Backends', 'Routing', 'Thermal'];

/**
 * Parses the shipped contract and checks it has every interface the client uses.
 *
 * @param {string} xml - the text of ie.fio.OllamaProxy.xml
 * @returns {Gio.DBusNodeInfo} the parsed contract
 */
export function parseInterfaces(xml) {
    const node = Gio.DBusNodeInfo.new_for_xml(xml);
    for (const name of OBJECTS) {
        if (!node.lookup_interface(`${BUS_NAME}.${name}`))
            throw new Error(`${INTERFACE_FILE} has no interface ${BUS_NAME}.${name}`);
    }
    return node;
}

/**
 * Reads and parses the contract shipped in the extension's folder.
 *
 * @param {Gio.File} dir - the extension's folder
 * @returns {Gio.DBusNodeInfo} the parsed contract
 */
export function loadInterfaces(dir) {
    const [, bytes] = dir.get_child(INTERFACE_FILE).load_contents(null);
    return parseInterfaces(new TextDecoder().decode(bytes));
}

/**
 * A proxy for one of the router's objects: what Gio.DBusProxy.makeProxyWrapper() builds, from one
 * interface of the whole contract. gjs adds the convenience members when it initializes a proxy
 * that has interface info: a property per D-Bus property, and XxxRemote/XxxSync/XxxAsync per method.
 *
 * @param {Gio.DBusConnection} connection - the session bus
 * @param {Gio.DBusNodeInfo} node - the contract
 * @param {string} name - the object's name (Efficiency, Backends …)
 * @param {Gio.Cancellable} cancellable - cancels the initialization
 * @returns {Promise<Gio.DBusProxy>} the initialized proxy
 */
async function makeProxy(connection, node, name, cancellable) {
    const proxy = new Gio.DBusProxy({
        g_connection: connection,
        g_interface_name: `${BUS_NAME}.${name}`,
        g_interface_info: node.lookup_interface(`${BUS_NAME}.${name}`),
        g_name: BUS_NAME,
        g_object_path: `${OBJECT_ROOT}/${name}`,
        // The router is a user service; a click in Quick Settings must not start it.
        g_flags: Gio.DBusProxyFlags.DO_NOT_AUTO_START,
    });
    await new Promise((resolve, reject) => {
        proxy.init_async(GLib.PRIORITY_DEFAULT, cancellable, (source, result) => {
            try {
                resolve(source.init_finish(result));
            } catch (e) {
                reject(e);
            }
        });
    });
    return proxy;
}

/**
 * @param {Array} row - one ListBackends row: id, name, type, hardware, health, power, latency, in flight, queued
 * @returns {{id: string, name: string, hardware: string, health: string}} what the menu shows
 */
function backendFromRow(row) {
    const [id, name, , hardware, health] = row;
    return {id, name: name || id, hardware, health};
}

export class RouterClient {
    #connection;
    #node;
    #onChanged;
    #onEvent;
    #onError;
    #watchId = 0;
    #proxies = null;
    #handlers = [];
    #cancellable = null;
    #backends = [];
    #destroyed = false;

    /**
     * @param {Gio.DBusConnection} connection - the session bus
     * @param {Gio.DBusNodeInfo} node - the contract (see loadInterfaces)
     * @param {object} callbacks - what the owner is told
     * @param {function(object):void} callbacks.onChanged - called with a new RouterSnapshot on every change
     * @param {function(object):void} [callbacks.onEvent] - called with {kind: 'backend-health', id, name,
     *   health, message} as the router signals a backend's health (BackendHealthChanged)
     * @param {function(Error):void} [callbacks.onError] - a failed call or initialization
     */
    constructor(connection, node, {onChanged, onEvent = () => {}, onError = () => {}}) {
        this.#connection = connection;
        this.#node = node;
        this.#onChanged = onChanged;
        this.#onEvent = onEvent;
        this.#onError = onError;
    }

    /** Starts watching the bus name; the owner is told NOT_RUNNING_SNAPSHOT until the router answers. */
    start() {
        this.#watchId = Gio.bus_watch_name_on_connection(this.#connection, BUS_NAME,
            Gio.BusNameWatcherFlags.NONE,
            () => this.#nameAppeared().catch(e => this.#onError(e)),
            () => this.#nameVanished());
        this.#onChanged(NOT_RUNNING_SNAPSHOT);
    }

    /** @returns {object} the router's state now (a RouterSnapshot) */
    get snapshot() {
        const proxies = this.#proxies;
        if (!proxies)
            return NOT_RUNNING_SNAPSHOT;

        const {Efficiency: efficiency, Routing: routing, Thermal: thermal} = proxies;
        return {
            running: true,
            mode: efficiency.Mode ?? '',
            effectiveMode: efficiency.EffectiveMode ?? '',
            reason: efficiency.Reason ?? '',
            modes: efficiency.Modes ?? [],
            backends: this.#backends.map(b => ({...b})),
            lastBackend: routing.LastBackend ?? '',
            hotDevices: thermal.HotDevices ?? [],
            throttling: thermal.Throttling ?? false,
        };
    }

    /**
     * Sets the user's mode (Efficiency.SetMode).
     *
     * @param {string} mode - a mode id
     * @returns {Promise<void>} settles with the router's answer
     */
    async setMode(mode) {
        if (!this.#proxies)
            throw new Error(`${BUS_NAME} is not running`);
        await this.#proxies.Efficiency.SetModeAsync(mode);
    }

    /** Stops watching and lets go of every proxy and handler. */
    destroy() {
        this.#destroyed = true;
        if (this.#watchId) {
            Gio.bus_unwatch_name(this.#watchId);
            this.#watchId = 0;
        }
        this.#dropProxies();
    }

    async #nameAppeared() {
        // A new owner: proxies from an earlier one (or an initialization still under way) go.
        this.#dropProxies();
        const cancellable = new Gio.Cancellable();
        this.#cancellable = cancellable;

        let proxies;
        try {
            const made = await Promise.all(
                OBJECTS.map(name => makeProxy(this.#connection, this.#node, name, cancellable)));
            proxies = Object.fromEntries(OBJECTS.map((name, i) => [name, made[i]]));
        } catch (e) {
            if (e.matches?.(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED))
                return;
            throw e;
        }
        if (cancellable.is_cancelled())
            return;

        // Handlers first, the backend list second: a health change signalled before the list's
        // answer is already in the list, one signalled after it arrives through the handler.
        this.#proxies = proxies;
        for (const proxy of Object.values(proxies))
            this.#handle(proxy, 'g-properties-changed', () => this.#changed());
        this.#handle(proxies.Backends, 'g-signal', (_proxy, _sender, signal, parameters) => {
            if (signal === 'BackendHealthChanged')
                this.#backendHealthChanged(...parameters.deepUnpack());
        });
        this.#handle(proxies.Backends, 'g-properties-changed', (_proxy, changed) => {
            // The set of backends changed: the only time the list is asked for again.
            if (changed.lookup_value('Count', null))
                this.#listBackends(cancellable);
        });
        await this.#listBackends(cancellable);
    }

    async #listBackends(cancellable) {
        try {
            const [rows] = await this.#proxies.Backends.ListBackendsAsync(cancellable);
            if (!cancellable.is_cancelled())
                this.#backends = rows.map(backendFromRow);
        } catch (e) {
            // Without the list the mode still works; the menu shows no backends.
            if (!e.matches?.(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED))
                this.#onError(e);
        }
        if (!cancellable.is_cancelled())
            this.#changed();
    }

    #backendHealthChanged(id, health, message) {
        const backend = this.#backends.find(b => b.id === id);
        if (!backend)
            return;
        backend.health = health;
        this.#changed();
        this.#onEvent({kind: 'backend-health', id, name: backend.name, health, message});
    }

    #nameVanished() {
        const wasRunning = this.#proxies !== null;
        this.#dropProxies();
        if (wasRunning && !this.#destroyed)
            this.#onChanged(NOT_RUNNING_SNAPSHOT);
    }

    #handle(proxy, signal, callback) {
        this.#handlers.push([proxy, proxy.connect(signal, callback)]);
    }

    #dropProxies() {
        this.#cancellable?.cancel();
        this.#cancellable = null;
        for (const [proxy, id] of this.#handlers)
            proxy.disconnect(id);
        this.#handlers = [];
        this.#proxies = null;
        this.#backends = [];
    }

    #changed() {
        if (this.#proxies && !this.#destroyed)
            this.#onChanged(this.snapshot);
    }
}
