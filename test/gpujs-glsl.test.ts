import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { floatAddressing, replaceGlslFunction } from '../src/backend/gpujs/device-glsl.js';

/**
 * Float texel addressing for gpu.js's GL shaders (`device-glsl.ts`): the replacement finds both
 * functions in gpu.js's own shader template (so an upgrade that renames them fails here rather
 * than silently keeping the integer divisions), and replaces whole functions only. The numbers
 * the patched shaders compute are checked by the parity suites in headlessgl mode.
 */

const template = (createRequire(import.meta.url)('gpu.js') as { HeadlessGLKernel: { fragmentShader: string } }).HeadlessGLKernel.fragmentShader;

/** The body of the GLSL function starting with `head` in `source`. */
const body = (source: string, head: string) => {
  const start = source.indexOf(head);
  return source.slice(start, source.indexOf('\n}', start) + 2);
};

describe('float texel addressing', () => {
  it("replaces getImage2D and indexTo3D in gpu.js's fragment shader with float arithmetic", () => {
    const patched = floatAddressing(template);
    for (const head of ['vec4 getImage2D(sampler2D tex,', 'ivec3 indexTo3D(int idx,']) {
      expect(body(template, head)).toMatch(/integerMod|\/ texDim|\/ w\b/);
      expect(body(patched, head)).toContain('floor(');
      expect(body(patched, head)).not.toMatch(/integerMod|int\(idx \/|index \/ w/);
    }
    // Everything else is kept.
    expect(patched.replace(body(patched, 'vec4 getImage2D(sampler2D tex,'), '').replace(body(patched, 'ivec3 indexTo3D(int idx,'), '')).toBe(
      template.replace(body(template, 'vec4 getImage2D(sampler2D tex,'), '').replace(body(template, 'ivec3 indexTo3D(int idx,'), ''),
    );
  });

  it('replaces a whole function up to its matching brace, and nothing when it is absent', () => {
    const source = 'float a() { return 1.0; }\nfloat f(int x) {\n  if (x > 0) { return 2.0; }\n  return 3.0;\n}\nfloat b() { return 4.0; }';
    expect(replaceGlslFunction(source, 'float f(', 'float f(int x) { return 5.0; }')).toBe('float a() { return 1.0; }\nfloat f(int x) { return 5.0; }\nfloat b() { return 4.0; }');
    expect(replaceGlslFunction(source, 'float g(', 'float g() { return 0.0; }')).toBe(source);
  });
});
