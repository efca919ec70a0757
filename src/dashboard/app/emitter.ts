/** A typed event emitter in a few lines: the page's views listen to the store through it. */
export class Emitter<Events extends Record<string, unknown[]>> {
  readonly #listeners = new Map<keyof Events, Set<unknown>>();

  /** Listen to `type`; the function returned stops listening. */
  on<K extends keyof Events>(type: K, listener: (...args: Events[K]) => void): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Call every listener of `type`. */
  protected emit<K extends keyof Events>(type: K, ...args: Events[K]): void {
    for (const listener of this.#listeners.get(type) ?? []) (listener as (...args: Events[K]) => void)(...args);
  }
}
