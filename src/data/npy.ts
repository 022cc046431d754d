import { readFileSync } from 'node:fs';
import { DataFormatError, FileFormatError, problem } from '../errors.js';

/** A numeric array read from a NumPy `.npy` file, in C (row-major) order, as float64. */
export interface NpyArray {
  /** `[n]` for a 1-D array, `[rows, columns]` for a 2-D one. */
  shape: number[];
  /** The `descr` of the file, e.g. `<f8`. */
  dtype: string;
  data: Float64Array;
}

/** The element types read: little-endian float64, float32, int64 and int32. */
export const NPY_DTYPES = ['<f8', '<f4', '<i8', '<i4'] as const;
const SIZES: Record<string, number> = { '<f8': 8, '<f4': 4, '<i8': 8, '<i4': 4 };
const MAGIC = '\x93NUMPY';

/**
 * Parses a NumPy `.npy` file (format versions 1.0, 2.0 and 3.0): the magic `\x93NUMPY`, the
 * version bytes, a little-endian header length (2 bytes in version 1, 4 in 2 and 3), then a
 * Python dict literal with `descr`, `fortran_order` and `shape`, then the raw elements.
 * Reads 1-D and 2-D arrays of the {@link NPY_DTYPES} in C order; refuses (with a
 * {@link DataFormatError} naming `file`) Fortran order, other element types and other ranks.
 * int64 values beyond ±2^53 lose precision as they become float64.
 */
export function parseNpy(bytes: Uint8Array, file?: string): NpyArray {
  const fail = (code: string, message: string): never => {
    throw new DataFormatError([problem(code, message)], file);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, 6));
  if (bytes.length < 10 || magic !== MAGIC) fail('npy-magic', 'not a NumPy .npy file (it does not start with \\x93NUMPY)');
  const major = bytes[6];
  if (major < 1 || major > 3) fail('npy-version', `.npy format version ${major}.${bytes[7]} is not supported (1.0, 2.0 and 3.0 are)`);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail('npy-header', 'the .npy header is cut short');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes;
  if (bytes.length < start + headerLength) fail('npy-header', 'the .npy header is cut short');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLength));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail('npy-header', `the .npy header ${JSON.stringify(header.trim())} lacks descr, fortran_order or shape`);
  if (fortran === 'True') fail('npy-fortran-order', 'the array is stored in Fortran (column-major) order; save it in C order, e.g. numpy.save(path, numpy.ascontiguousarray(a))');
  const dtype = descr as string;
  if (!(dtype in SIZES)) fail('npy-dtype', `element type ${dtype} is not supported; save the array as float64 (<f8), float32 (<f4), int64 (<i8) or int32 (<i4), e.g. a.astype(numpy.float64)`);
  const shape = (shapeText as string).split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.length < 1 || shape.length > 2 || shape.some((n) => !Number.isInteger(n) || n < 0)) fail('npy-shape', `the array has shape (${shapeText}); a data array must be 1-D (one column) or 2-D (rows × columns)`);
  const count = shape.reduce((a, b) => a * b, 1);
  const size = SIZES[dtype];
  const offset = start + headerLength;
  if (bytes.length !== offset + count * size) fail('npy-size', `the file holds ${bytes.length - offset} data bytes but shape (${shape.join(', ')}) of ${dtype} needs ${count * size}`);
  const data = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const at = offset + k * size;
    data[k] = dtype === '<f8' ? view.getFloat64(at, true) : dtype === '<f4' ? view.getFloat32(at, true) : dtype === '<i4' ? view.getInt32(at, true) : Number(view.getBigInt64(at, true));
  }
  return { shape, dtype, data };
}

/** Reads and parses a `.npy` file (see {@link parseNpy}); unreadable files raise a {@link FileFormatError}. */
export function readNpyArray(path: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new FileFormatError([problem('unreadable', `cannot read the file: ${why}`)], path);
  }
  return parseNpy(bytes, path);
}
