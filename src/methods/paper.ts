import type { MethodName } from './methods.js';

/**
 * Section 4's published figures. Table 1: iterations giving about the time of 10,000 batch
 * backprop iterations (a range); Table 2: final loss, bits per sample, mean ± std over 20 runs.
 */
export const PAPER_TABLE1: Partial<Record<MethodName, [number, number]>> = {
  backprop: [10000, 10000],
  natural: [9, 10],
  'unitwise-natural': [2100, 2300],
  'quasi-diagonal-natural': [2800, 3100],
  'backpropagated-metric': [4200, 4300],
  'quasi-diagonal-backpropagated-metric': [7400, 7500],
  'mc-unitwise-natural': [2800, 2900],
  'mc-quasi-diagonal-natural': [3900, 4000],
  'unitwise-op': [4000, 4100],
  'diagonal-gauss-newton': [7700, 7800],
  adagrad: [8000, 8100],
};

export const PAPER_TABLE2: Partial<Record<MethodName, { sigmoid: [number, number]; tanh: [number, number] }>> = {
  backprop: { sigmoid: [35.9, 2.1], tanh: [24.7, 2.2] },
  'diagonal-gauss-newton': { sigmoid: [11.6, 2.5], tanh: [3.5, 2.0] },
  adagrad: { sigmoid: [51.1, 3.3], tanh: [25.3, 2.0] },
  'unitwise-natural': { sigmoid: [0.9, 1], tanh: [1.4, 1.8] },
  'quasi-diagonal-natural': { sigmoid: [3.5, 1.2], tanh: [3.4, 1.6] },
  'backpropagated-metric': { sigmoid: [0.8, 0.8], tanh: [0.3, 0.5] },
  'quasi-diagonal-backpropagated-metric': { sigmoid: [1.9, 1.2], tanh: [1.5, 1.3] },
  'mc-unitwise-natural': { sigmoid: [12.9, 1.5], tanh: [14.1, 2.2] },
  'mc-quasi-diagonal-natural': { sigmoid: [7.9, 2.3], tanh: [10.1, 2.5] },
  'unitwise-op': { sigmoid: [24.7, 2.5], tanh: [28.5, 3.4] },
};

/** Table 1 as a time ratio to backprop: 10,000 / (midpoint of the method's iteration range). */
export function paperTimeRatio(method: MethodName): number | undefined {
  const range = PAPER_TABLE1[method];
  return range ? 10000 / ((range[0] + range[1]) / 2) : undefined;
}
