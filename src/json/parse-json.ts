import { visit, printParseErrorCode, type ParseErrorCode } from 'jsonc-parser';
import { FileFormatError, problem } from '../errors.js';

/**
 * Parses strict JSON. On a syntax error, throws a {@link FileFormatError} giving the line and
 * column (1-based) of the first fault. `JSON.parse` does the parsing; jsonc-parser (strict mode:
 * no comments, no trailing commas) is only used to locate a fault, since V8's messages do not
 * always carry a position.
 */
export function parseJson(text: string, file?: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const where = locateSyntaxError(text);
    const detail = where ? `${where.reason} at line ${where.line}, column ${where.column}` : (err as Error).message;
    throw new FileFormatError([problem('json-syntax', `invalid JSON: ${detail}`)], file);
  }
}

interface SyntaxLocation {
  line: number;
  column: number;
  reason: string;
}

function locateSyntaxError(text: string): SyntaxLocation | undefined {
  let found: SyntaxLocation | undefined;
  visit(
    text,
    {
      onError(error: ParseErrorCode, _offset: number, _length: number, startLine: number, startCharacter: number) {
        found ??= { line: startLine + 1, column: startCharacter + 1, reason: describe(error) };
      },
    },
    { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false },
  );
  if (!found && text.trim() === '') return { line: 1, column: 1, reason: 'empty file' };
  return found;
}

function describe(code: ParseErrorCode): string {
  const name = printParseErrorCode(code);
  // 'CommaExpected' -> 'comma expected'
  return name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}
