// Which snapshot the dashboard shows, as a pure reducer: the host's snapshot steps and payloads, the step slider,
// "Follow latest" and a reload's restore go in as events; the new state and the step to ask the host for come out.
// main.ts only renders the state and posts `requestSnapshot`. Unit-tested in Node.

import { formatStep } from '../shared/format';

export interface SnapshotSelection {
  /** Steps that have a snapshot, ascending. */
  steps: number[];
  /** Step of the payload on screen; null before the first one. */
  displayed: number | null;
  /** Step asked of the host and not shown yet. */
  requested: number | null;
  /** The step the user picked (persisted); null follows the host's choice. */
  picked: number | null;
  followLatest: boolean;
}

export type SelectionEvent =
  /** A host `setData`: `steps` when it carried snapshotSteps, `snapshot` (its step, or null) when it carried a snapshot. */
  | { type: 'host'; steps?: readonly number[]; snapshot?: number | null }
  /** The slider moved to `index` (the request itself is debounced by the view: it sends `request` later). */
  | { type: 'slide'; index: number }
  /** Ask the host for `step` now. */
  | { type: 'request'; step: number }
  | { type: 'follow'; on: boolean };

export interface Reduced {
  state: SnapshotSelection;
  /** Post `requestSnapshot` for this step. */
  request?: number;
  /** The persisted part (picked, followLatest) changed. */
  persist?: boolean;
}

export function initialSelection(picked: number | null, followLatest: boolean): SnapshotSelection {
  return { steps: [], displayed: null, requested: null, picked: followLatest ? null : picked, followLatest };
}

const newest = (steps: readonly number[]): number | undefined => steps[steps.length - 1];

function request(state: SnapshotSelection, step: number): Reduced {
  if ((state.displayed === step && state.requested === null) || state.requested === step) return { state };
  return { state: { ...state, requested: step }, request: step };
}

function onHost(state: SnapshotSelection, steps: readonly number[] | undefined, snapshot: number | null | undefined): Reduced {
  let next = state;
  let asked: number | undefined;
  if (steps !== undefined) {
    const previousNewest = newest(next.steps);
    next = { ...next, steps: [...steps].sort((a, b) => a - b) };
    const latest = newest(next.steps);
    // Follow latest: a new newest step replaces the one shown (unless this update brings a snapshot itself).
    if (
      next.followLatest &&
      latest !== undefined &&
      latest !== previousNewest &&
      snapshot === undefined &&
      next.displayed !== null &&
      next.displayed !== latest
    ) {
      const r = request(next, latest);
      next = r.state;
      asked = r.request;
    }
  }
  if (snapshot !== undefined) next = { ...next, displayed: snapshot, requested: next.requested === snapshot ? null : next.requested };
  // After a reload the host shows its newest snapshot: ask again for the step the user had picked.
  const wanted = next.followLatest ? null : next.picked;
  if (
    asked === undefined &&
    wanted !== null &&
    next.displayed !== null &&
    next.displayed !== wanted &&
    next.requested === null &&
    next.steps.includes(wanted)
  ) {
    const r = request(next, wanted);
    next = r.state;
    asked = r.request;
  }
  return asked === undefined ? { state: next } : { state: next, request: asked };
}

export function reduceSelection(state: SnapshotSelection, event: SelectionEvent): Reduced {
  switch (event.type) {
    case 'host':
      return onHost(state, event.steps, event.snapshot);
    case 'slide': {
      const step = state.steps[event.index];
      if (step === undefined) return { state };
      const followLatest = step === newest(state.steps) && state.followLatest;
      return { state: { ...state, picked: step, followLatest }, persist: true };
    }
    case 'request':
      return request(state, event.step);
    case 'follow': {
      const next = { ...state, followLatest: event.on, picked: event.on ? null : state.picked };
      const latest = newest(next.steps);
      const r = event.on && latest !== undefined ? request(next, latest) : { state: next };
      return { ...r, persist: true };
    }
  }
}

export interface StepBarView {
  /** Slider max (index of the newest step). */
  max: number;
  /** Slider position; -1 when the shown step is not in the list. */
  index: number;
  disabled: boolean;
  label: string;
  /** Step being loaded, for the spinner; null when nothing is pending. */
  loading: number | null;
}

/** The step bar for a state; `sliding` is the step under the slider while the user drags it. */
export function stepBarView(state: SnapshotSelection, sliding: number | null = null): StepBarView {
  const { steps } = state;
  const shown = sliding ?? state.requested ?? state.displayed ?? newest(steps);
  const index = shown === undefined ? -1 : steps.indexOf(shown);
  return {
    max: Math.max(0, steps.length - 1),
    index,
    disabled: steps.length <= 1,
    label: shown === undefined ? 'no snapshots' : `step ${formatStep(shown)}${index >= 0 ? ` · ${index + 1} of ${steps.length}` : ''}`,
    loading: state.requested !== null && state.requested !== state.displayed ? state.requested : null,
  };
}
