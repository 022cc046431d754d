import { buildGroups, type KroneckerGroup } from '../curvature/kronecker/groups.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import { METHOD_SPECS, type KroneckerChoices, type MethodName } from '../methods/methods.js';

/** Which twin a network is compared with: Section 3.2's sigmoid↔tanh twin, random Def. 29 reparametrisations (Prop. 30), or random recombinations (Prop. 31). */
export type TwinKind = 'convert' | 'reparametrize' | 'recombine';

/** What an expected verdict depends on besides the method and the twin (only the Kronecker methods use it). */
export interface InvarianceSetting {
  net: CompiledNetwork;
  /** Samples S of the batch (the whole data set). */
  samples: number;
  /** Draws K per sample of the Monte-Carlo methods (default 1). */
  mcSamples?: number;
  /** `--groups`, `--kronecker-solve` (defaults: levels, restricted). */
  choices?: Pick<KroneckerChoices, 'groups' | 'kroneckerSolve'>;
}

/** An expected verdict and why, in one sentence (the CLI prints the Kronecker methods' reasons as notes). */
export interface InvarianceExpectation {
  invariant: boolean;
  reason: string;
}

/**
 * Whether the twins of a method should agree (ε = 0).
 * - Per-unit and whole-network methods: as the paper says (Prop. 30, 31; `MethodSpec`).
 * - Kronecker methods (kflr, kfac, kfra): a group's homogeneous activity ā_g maps affinely and
 *   its pre-activations scale per unit under Def. 29 (and sigmoid↔tanh), so M_g maps by
 *   congruence and the exact restricted solve is invariant (at ε = 0 its choice among the
 *   solutions of a singular M_g is covariant too: see `centre`); the masked solve is not on
 *   sparse groups (the grid's zeros at missing parameters do not map). Under Prop. 31 only
 *   complete groups are: the twin recombines each complete group's shared signals with one
 *   transform (a Kronecker method sees one ā_g per group), while on a sparse group each
 *   unit's own recombination is no transform of ā_g.
 */
export function expectedInvariance(method: MethodName, twin: TwinKind, setting: InvarianceSetting): InvarianceExpectation {
  const spec = METHOD_SPECS[method];
  if (spec.reduction !== 'kronecker') {
    const invariant = twin === 'recombine' ? spec.recombinationInvariant : spec.invariant;
    return { invariant, reason: `${spec.title}: ${invariant ? 'invariant' : 'not invariant'} (${twin === 'recombine' ? 'Prop. 31' : 'Prop. 30'})` };
  }
  const groups = buildGroups(setting.net, setting.choices?.groups ?? 'levels');
  const sparse = groups.filter((g) => !g.complete);
  const count = (list: KroneckerGroup[]) => `${list.length} of ${groups.length} groups (${names(list)})`;
  if (twin === 'recombine' && sparse.length > 0) {
    return { invariant: false, reason: `${method}: ${count(sparse)} are sparse: each unit's own recombination is no transform of the group's activity ā_g, and the nearest Kronecker product of the recombined metric differs (Prop. 31 holds for complete groups only)` };
  }
  if (twin !== 'recombine' && sparse.length > 0 && setting.choices?.kroneckerSolve === 'masked') {
    return { invariant: false, reason: `${method}: the masked solve puts zeros on the grid where ${count(sparse)} have no parameter, and those zeros do not map under Def. 29 (the bias row mixes with the source rows): not invariant on sparse groups` };
  }
  const note = spec.factor === 'monte-carlo' ? singularMonteCarloNote(groups, setting.samples, setting.mcSamples ?? 1) : '';
  if (twin === 'recombine') {
    // A singular A_g whose activities move: its solutions differ by null directions of A_g that a general T_g does not map, harmless on the data to first order only.
    const moving = groups.filter((g) => g.sources.length + 1 > setting.samples && g.sources.some((u) => u >= setting.net.nInputs));
    const firstOrder = moving.length > 0 ? `; A_g of ${count(moving)} is singular (more sources than the ${setting.samples} samples) and their sources move: no choice among the solutions maps covariantly under a general T_g, so expect agreement to first order only (deviations growing like η²)` : '';
    return { invariant: true, reason: `${method}: all ${groups.length} groups are complete and the twin recombines each one's signals with one transform T_g: A' = T_g A T_gᵀ, G unchanged, and the matrix-form solve maps back${firstOrder}${note}` };
  }
  const solves = sparse.length === 0 ? `the matrix-form solves of all ${groups.length} groups (complete)` : `the restricted solves on the parameters of ${count(sparse)}${sparse.length < groups.length ? ' and in matrix form on the complete ones' : ''},`;
  return { invariant: true, reason: `${method}: ā_g maps affinely and the pre-activations scale per unit (Def. 29), so M_g maps by congruence and ${solves} are invariant${note}` };
}

/**
 * K-FAC's G_g averages K·S sampled backpropagations: on a group of more units it is singular and
 * the gradient (true backpropagations) leaves its range. The ε = 0 step is then the basic
 * solution of an inconsistent system: still covariant, but large, so rounding grows faster.
 */
function singularMonteCarloNote(groups: KroneckerGroup[], samples: number, draws: number): string {
  const singular = groups.filter((g) => g.units.length > samples * draws);
  if (singular.length === 0) return '';
  const largest = Math.max(...singular.map((g) => g.units.length));
  return `; G_g of ${singular.length} of ${groups.length} groups (${names(singular)}) is singular (K·S = ${samples * draws} draws for up to ${largest} units) and the gradient leaves its range: the ε = 0 step, the basic solution of an inconsistent system, is still covariant but large, so rounding grows faster along the trajectory (--mc-samples ${Math.ceil(largest / samples)} makes G_g regular)`;
}

function names(groups: KroneckerGroup[]): string {
  return groups.slice(0, 3).map((g) => `'${g.name}'`).join(', ') + (groups.length > 3 ? ', …' : '');
}
