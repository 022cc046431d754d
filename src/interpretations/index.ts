import type { Interpretation } from '../network/types.js';
import { bernoulliInterpretation } from './bernoulli.js';
import type { OutputInterpretation } from './interpretation.js';
import { softmaxInterpretation } from './softmax.js';
import { sphericalInterpretation } from './spherical.js';
import { squareInterpretation } from './square.js';

/** The output interpretations of Example 1, one object each. */
export const INTERPRETATION_OBJECTS: Record<Interpretation, OutputInterpretation> = {
  square: squareInterpretation,
  bernoulli: bernoulliInterpretation,
  softmax: softmaxInterpretation,
  spherical: sphericalInterpretation,
};

export type { OutputInterpretation, OutputMetric, OutputPass } from './interpretation.js';
export { bernoulliProbability } from './bernoulli.js';
