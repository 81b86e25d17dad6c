/**
 * Holds step results per fixture until the fixture ends, so a reporter can
 * print each fixture as one block even when fixtures run concurrently and
 * their events interleave.
 *
 * @module
 */
import type { FixtureRef, StepResultEvent } from "../runner/events.ts";
import { fixtureKey } from "./_format.ts";

/** Step results by fixture, in the order they came. */
export class StepLog {
  #byFixture = new Map<string, StepResultEvent[]>();

  /**
   * Keeps one step result.
   *
   * @param event The result.
   */
  add(event: StepResultEvent): void {
    const key = fixtureKey(event.fixture);
    const list = this.#byFixture.get(key);
    if (list) list.push(event);
    else this.#byFixture.set(key, [event]);
  }

  /**
   * Gives and forgets the results of one fixture.
   *
   * @param fixture The fixture that ended.
   * @returns Its results, oldest first; empty when it had none.
   */
  take(fixture: FixtureRef): StepResultEvent[] {
    const key = fixtureKey(fixture);
    const list = this.#byFixture.get(key) ?? [];
    this.#byFixture.delete(key);
    return list;
  }
}
