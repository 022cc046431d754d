/** What became of a tried step. */
export type StepOutcome = 'accepted' | 'worse' | 'fault';

/**
 * A learning-rate schedule as an update rule: its state is the rate; `update` gives the next
 * rate from what became of the step tried with the current one. `judges` says whether a step
 * that makes the batch loss worse is cancelled.
 */
export interface RateSchedule {
  readonly judges: boolean;
  update(lr: number, outcome: StepOutcome): number;
}

/** Section 4: cancel a step that worsens the loss and halve the rate, else keep it and multiply the rate by 1.1. */
export const adaptiveRate: RateSchedule = {
  judges: true,
  update: (lr, outcome) => (outcome === 'accepted' ? lr * 1.1 : lr / 2),
};

/** A fixed rate, halved only after a numerical fault (non-finite direction or loss). */
export const fixedRate: RateSchedule = {
  judges: false,
  update: (lr, outcome) => (outcome === 'fault' ? lr / 2 : lr),
};
