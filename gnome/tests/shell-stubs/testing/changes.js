// Test-only: the stubs report every change of what a user would see, so the driver can print the
// widgets' state once per change instead of polling.

const listeners = new Set();

/** Tells every listener that something visible changed. */
export function changed() {
    for (const listener of listeners)
        listener();
}

/**
 * @param {function():void} listener - called after every change
 * @returns {function():void} unsubscribes
 */
export function subscribe(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
}
