/**
 * Texel addressing in float arithmetic for gpu.js's GL fragment shaders (headlessgl mode).
 * gpu.js 2.24.1 turns every array read into `getImage2D`, which maps the entry index to texel
 * coordinates with two integer divisions, and every fragment's thread id into `indexTo3D`, three
 * more. llvmpipe runs shaders as SIMD code, where integer division has no vector instruction and
 * runs lane by lane; the same mapping in float arithmetic (a division, a floor and an exact
 * correction) is vector code. Measured on llvmpipe (2-core VM, CPU time): a one-read copy of
 * 2.56M entries 77 → 57 ms, a two-read one 94 → 76 ms.
 * Exact while indices stay below 2^24 (the engine's arrays do: `checkDeviceSizes`): the
 * quotient is corrected by ±1 if the division rounded across an integer, so products and
 * remainders are exact integers in float32.
 */

const FLOAT_GET_IMAGE = `vec4 getImage2D(sampler2D tex, ivec2 texSize, ivec3 texDim, int z, int y, int x) {
  float i = float(x + texDim.x * (y + texDim.y * z));
  float w = float(texSize.x);
  float row = floor(i / w);
  float col = i - row * w;
  if (col >= w) { row += 1.0; col -= w; }
  if (col < 0.0) { row -= 1.0; col += w; }
  return texture2D(tex, (vec2(col, row) + 0.5) / vec2(texSize));
}`;

const FLOAT_INDEX_TO_3D = `ivec3 indexTo3D(int idx, ivec3 texDim) {
  float i = float(idx);
  float plane = float(texDim.x * texDim.y);
  float z = floor(i / plane);
  i -= z * plane;
  if (i >= plane) { z += 1.0; i -= plane; }
  if (i < 0.0) { z -= 1.0; i += plane; }
  float w = float(texDim.x);
  float y = floor(i / w);
  float x = i - y * w;
  if (x >= w) { y += 1.0; x -= w; }
  if (x < 0.0) { y -= 1.0; x += w; }
  return ivec3(int(x), int(y), int(z));
}`;

/**
 * Replaces the GLSL function whose definition starts with `head` (up to its matching closing
 * brace) by `replacement`; `source` unchanged when it has no such function.
 */
export function replaceGlslFunction(source: string, head: string, replacement: string): string {
  const start = source.indexOf(head);
  if (start < 0) return source;
  let depth = 0;
  for (let i = source.indexOf('{', start); i < source.length; i++) {
    if (source[i] === '{') depth++;
    else if (source[i] === '}' && --depth === 0) return source.slice(0, start) + replacement + source.slice(i + 1);
  }
  return source;
}

/** A gpu.js fragment shader with float texel addressing (see above). */
export function floatAddressing(source: string): string {
  const image = replaceGlslFunction(source, 'vec4 getImage2D(sampler2D tex,', FLOAT_GET_IMAGE);
  return replaceGlslFunction(image, 'ivec3 indexTo3D(int idx,', FLOAT_INDEX_TO_3D);
}

/** What {@link useFloatAddressing} uses of a gpu.js GL kernel (gpu.js 2.24.1 `WebGLKernel`, internal). */
interface GlKernel {
  compiledFragmentShader: string | null;
  getFragmentShader(args: unknown): string;
}

const PATCHED = Symbol('unitwise float addressing');

/**
 * Makes every kernel of `kernel`'s class (gpu.js's headless-gl kernel; webasm kernels have no
 * fragment shader and are left alone) compile its fragment shader with {@link floatAddressing}.
 * Once per class: gpu.js rebuilds kernels of the same class when argument types change.
 */
export function useFloatAddressing(kernel: object): void {
  const proto = Object.getPrototypeOf(kernel) as GlKernel & { [PATCHED]?: boolean };
  if (proto[PATCHED] || typeof proto.getFragmentShader !== 'function') return;
  const original = proto.getFragmentShader;
  proto.getFragmentShader = function (this: GlKernel, args: unknown): string {
    if (this.compiledFragmentShader !== null) return this.compiledFragmentShader;
    return (this.compiledFragmentShader = floatAddressing(original.call(this, args)));
  };
  proto[PATCHED] = true;
}
