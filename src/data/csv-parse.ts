import { DataFormatError, problem, type Problem } from '../errors.js';

/** A parsed CSV file: the header names and the records after it, all as text. */
export interface CsvTable {
  header: string[];
  /** Records after the header; `rows[i]` is row `i + 2` of the file (the header is row 1). */
  rows: string[][];
}

/**
 * Parses CSV text as RFC 4180 describes it: records separated by CRLF or LF, fields by commas;
 * a field in double quotes may hold commas, line breaks and doubled quotes (`""` for `"`).
 * A quote inside an unquoted field, text after a closing quote and an unterminated quote are
 * errors. One line break at the end of the text does not start a record. A leading UTF-8 byte
 * order mark is dropped. Returns the records as arrays of fields (no header handling).
 * Throws {@link DataFormatError} naming `file`, the row (1-based record number) and line.
 */
export function parseCsvRecords(text: string, file?: string): string[][] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let line = 1;
  let i = 0;
  const fail = (message: string): never => {
    throw new DataFormatError([{ ...problem('csv-syntax', `row ${records.length + 1} (line ${line}): ${message}`), row: records.length + 1 }], file);
  };
  const endRecord = () => {
    record.push(field);
    records.push(record);
    record = [];
    field = '';
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      if (field !== '') fail('a double quote inside an unquoted field; quote the whole field and double the quote ("")');
      const start = line;
      i++;
      for (;;) {
        if (i >= text.length) { line = start; fail('a quoted field is not closed (missing ")'); }
        const d = text[i];
        if (d === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        if (d === '\n') line++;
        field += d;
        i++;
      }
      // Mark the field as quoted-and-closed: only a separator or line break may follow.
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && !(next === '\r' && text[i + 1] === '\n')) fail('text after a closing double quote; a quoted field must end at a comma or line break');
      if (next === undefined) break;
      continue;
    }
    if (c === ',') { record.push(field); field = ''; i++; continue; }
    if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      endRecord();
      i += c === '\n' ? 1 : 2;
      line++;
      continue;
    }
    field += c;
    i++;
  }
  // The last record, unless the text ended with a line break (or is empty).
  if (field !== '' || record.length > 0 || (text.length > 0 && !text.endsWith('\n'))) endRecord();
  return records;
}

/**
 * Parses CSV text with a header row (see {@link parseCsvRecords}). Every record must have as many
 * fields as the header; header names must be non-empty and distinct. Throws {@link DataFormatError}.
 */
export function parseCsv(text: string, file?: string): CsvTable {
  const records = parseCsvRecords(text, file);
  if (records.length === 0) throw new DataFormatError([problem('csv-empty', 'the CSV file is empty; it needs a header row naming the columns')], file);
  const [header, ...rows] = records;
  const problems: Problem[] = [];
  const seen = new Set<string>();
  header.forEach((name, j) => {
    if (name.trim() === '') problems.push({ ...problem('csv-header', `row 1: column ${j + 1} has an empty name; every column needs a header name`), row: 1 });
    else if (seen.has(name)) problems.push({ ...problem('csv-header', `row 1: column name "${name}" appears twice; header names must be distinct`), row: 1, column: name });
    seen.add(name);
  });
  rows.forEach((row, r) => {
    if (row.length !== header.length && problems.length < 10) {
      problems.push({ ...problem('csv-ragged', `row ${r + 2} has ${row.length} fields but the header has ${header.length}`), row: r + 2 });
    }
  });
  if (problems.length > 0) throw new DataFormatError(problems, file);
  return { header, rows };
}

/** Formats one CSV field, quoting it when it holds a comma, quote, CR or LF (RFC 4180). */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
