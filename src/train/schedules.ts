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

/** What a rate multiplier needs: the schedule, the step-decay period and factor, the cosine horizon. */
export interface ScheduleShape {
  readonly lrSchedule: string;
  readonly lrStepEvery: number;
  readonly lrStepFactor: number;
  readonly lrHorizon: number | null;
}

/**
 * The factor on the base rate at step t (0 for the first step tried): 1 for the adaptive and fixed
 * schedules; f^⌊t/N⌋ for step decay; ½(1 + cos(π min(t, T)/T)) for cosine over the horizon T
 * (0 from step T on). A function of t alone, so that resuming with the saved t is bit-identical.
 */
export function rateFactor(shape: ScheduleShape, step: number): number {
  if (shape.lrSchedule === 'step') return shape.lrStepFactor ** Math.floor(step / shape.lrStepEvery);
  if (shape.lrSchedule === 'cosine') {
    const horizon = shape.lrHorizon ?? 1;
    return 0.5 * (1 + Math.cos((Math.PI * Math.min(step, horizon)) / horizon));
  }
  return 1;
}
