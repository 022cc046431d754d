import { INTERPRETATION_OBJECTS } from '../interpretations/index.js';
import type { CompiledNetwork } from './compiled-network.js';
import type { Workspace } from './workspace.js';

/**
 * Loss ℓ = -ln ω(y) (Eq. 3) per sample into `ws.loss`, and the reduced backpropagated values
 * b̃_k = r_k b_k of the output units (Eq. 7, 9) into `ws.backReduced`, by the network's
 * interpretation object (Example 1). `targets` is unit-major [nOutputs × size].
 */
export function outputLayer(net: CompiledNetwork, ws: Workspace, targets: Float64Array): void {
  INTERPRETATION_OBJECTS[net.interpretation].outputLayer(net, ws, targets, ws.loss, ws.backReduced);
}
