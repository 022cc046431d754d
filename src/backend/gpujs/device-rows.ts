import type { Texture } from 'gpu.js';
import { NumericalError, problem } from '../../errors.js';

/**
 * Row launches of headlessgl mode: a fused kernel drawn over only the texture rows that hold the
 * entries it computes (a level's units, the output units, the input rows), whose outputs are
 * then copied into those rows of the whole-array textures in place (`copyTexSubImage2D`, no
 * shader), instead of a draw over the whole array that copies every other entry through.
 * NOTE: on llvmpipe a draw costs per texel and per texture read (~35 ns per gpu.js texel fetch
 * on a loaded 2-core VM: a copy-through draw of 2.56M texels with three outputs is ~0.3 s); on
 * the 10⁶-edge network (160,000 units × 16 samples) every level launch paid that for the whole
 * array, 4–5 × a level's own work, and the output layer and a batch a whole draw each.
 * A gpu.js 1-D array of n entries is a texture of `closestSquareDimensions(n)` texels, entry i
 * at texel (i mod W, ⌊i / W⌋): entries [first, end) lie in rows ⌊first / W⌋ .. ⌈end / W⌉ - 1,
 * and a kernel with the 2-D output [W × rows] draws exactly those texels, its thread
 * (x, y) computing entry base + y·W + x (the fused kernels' `base` and `width` arguments).
 */

/** The rows of a whole-array texture that a row launch draws. */
export interface RowWindow {
  /** First entry of the window (r0·W) and the texture's width W. */
  readonly base: number;
  readonly width: number;
  /** First row and row count (at least 2: gpu.js lays out a 2-D output of one row as a square). */
  readonly r0: number;
  readonly rows: number;
}

/** The WebGL 1 calls and constants a row copy uses (headless-gl's context). */
interface GlContext {
  readonly FRAMEBUFFER: number;
  readonly COLOR_ATTACHMENT0: number;
  readonly TEXTURE_2D: number;
  readonly TEXTURE15: number;
  bindFramebuffer(target: number, framebuffer: unknown): void;
  framebufferTexture2D(target: number, attachment: number, textarget: number, texture: unknown, level: number): void;
  activeTexture(unit: number): void;
  bindTexture(target: number, texture: unknown): void;
  copyTexSubImage2D(target: number, level: number, xoffset: number, yoffset: number, x: number, y: number, width: number, height: number): void;
}

/** The internal fields of a gpu.js GL texture that row copies use (gpu.js 2.24.1 `GLTexture`). */
interface GlTexture {
  /** The GL texture, with gpu.js's count of the Texture objects sharing it. */
  texture: { _refs?: number };
  readonly size: ArrayLike<number>;
  readonly context: GlContext;
  framebuffer(): unknown;
  cloneTexture(): void;
}

const gl = (t: Texture) => t as unknown as GlTexture;

/**
 * The rows of `target` (a texture of a whole array) holding entries [first, end), or undefined
 * when the texture has fewer than 2 rows (the caller draws the whole array instead).
 */
export function rowWindow(target: Texture, first: number, end: number): RowWindow | undefined {
  const [width, height] = Array.from(gl(target).size);
  if (height < 2 || end <= first) return undefined;
  let r0 = Math.floor(first / width);
  let r1 = Math.ceil(end / width);
  if (r1 - r0 < 2) {
    if (r1 < height) r1++;
    else r0--;
  }
  return { base: r0 * width, width, r0, rows: r1 - r0 };
}

/**
 * Copies the [W × rows] texture `from` (a row launch's output) into rows r0.. of `to` in place.
 * `to` is first made the sole owner of its GL texture: gpu.js shares one GL texture among clones
 * (a kernel keeps its last output; `copy` clones), and a write in place must not reach them.
 */
export function copyRows(from: Texture, to: Texture, window: RowWindow): void {
  const source = gl(from);
  const target = gl(to);
  if (target.size[0] !== window.width || target.size[1] < window.r0 + window.rows) {
    throw new NumericalError([problem('gpujs', `row copy into a ${Array.from(target.size).join('×')} texture from a window of ${window.width}×${window.rows} at row ${window.r0}`)]);
  }
  if ((target.texture._refs ?? 1) > 1) target.cloneTexture();
  const context = source.context;
  context.bindFramebuffer(context.FRAMEBUFFER, source.framebuffer());
  context.framebufferTexture2D(context.FRAMEBUFFER, context.COLOR_ATTACHMENT0, context.TEXTURE_2D, source.texture, 0);
  // gpu.js's own scratch unit (see `selectTexture` in gpu.js's GLTexture).
  context.activeTexture(context.TEXTURE15);
  context.bindTexture(context.TEXTURE_2D, target.texture);
  context.copyTexSubImage2D(context.TEXTURE_2D, 0, 0, window.r0, 0, 0, window.width, window.rows);
}
