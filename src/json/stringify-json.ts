import { NumericalError, problem } from '../errors.js';
/**
 * Serialises JSON exactly: numbers are written with JavaScript's shortest round-trip form
 * (so reading them back gives the same float64 bits) and negative zero is kept as `-0`,
 * which `JSON.stringify` would turn into `0`. Arrays of objects are written one element per
 * line, so that network files diff well; short arrays of numbers stay on one line.
 */
export function stringifyJson(value: unknown, indent = '  '): string {
  return write(value, '', indent) + '\n';
}

function write(value: unknown, pad: string, indent: string): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new NumericalError([problem('non-finite', `cannot write the non-finite number ${value} as JSON`)]);
    return Object.is(value, -0) ? '-0' : String(value);
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const inner = pad + indent;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) {
      return '[' + value.map((v) => write(v, inner, indent)).join(', ') + ']';
    }
    return '[\n' + value.map((v) => inner + writeCompact(v)).join(',\n') + '\n' + pad + ']';
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  return (
    '{\n' +
    entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${write(v, inner, indent)}`).join(',\n') +
    '\n' +
    pad +
    '}'
  );
}

/** One-line form, used for the elements of arrays of objects (nodes, edges, data rows). */
function writeCompact(value: unknown): string {
  if (typeof value === 'number') return write(value, '', '');
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return '[' + value.map(writeCompact).join(', ') + ']';
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return '{' + entries.map(([k, v]) => `${JSON.stringify(k)}: ${writeCompact(v)}`).join(', ') + '}';
}
