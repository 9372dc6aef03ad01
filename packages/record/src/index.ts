/**
 * @packageDocumentation
 * The triekv record model and its text format. A record is a top-level key and a value, as a rule a
 * document: an ordered map of unique string keys to values. A value is an int, a float, a string,
 * bytes, a document, a list, a boolean or null. Ints and floats stay distinct (`17` and `17.0` differ),
 * and ints beyond 2^53 stay exact as bigints. The reader is tolerant (`;` `,` `|`, `:` or `->`, `{}` or
 * `[]` documents, lists, bare keys and values, JSON, JSON Lines) and points at errors by line and
 * column; the writer is canonical.
 *
 * @example
 * ```ts
 * import { parseRecord, formatRecord, formatDisplay, parsePath, valueAt } from '@triekv/record';
 *
 * const rec = parseRecord(`'person2': {'name': 'Mary', 'address': {'number': 12}}`);
 * formatRecord(rec); // '"person2" : { "name" : "Mary" ; "address" : { "number" : 12 } }'
 * const path = parsePath('person2.address.number');
 * formatDisplay(path, valueAt(rec.value, path.slice(1))!); // 'person2.address.number : 12'
 * ```
 */
export {
  Float,
  float,
  isNumeric,
  kindOf,
  normalizeInt,
  toNumber,
  valueAt,
  valuesEqual,
  type Doc,
  type KvRecord,
  type List,
  type Path,
  type PathSegment,
  type Value,
  type ValueKind,
} from './value.js';
export {
  DuplicateKeyError,
  InvalidValueError,
  LineTooLongError,
  ParseError,
  RecordError,
  SyntaxParseError,
  TooDeepError,
  type Position,
} from './errors.js';
export { parseRecord, parseValue, type ParseOptions } from './parse.js';
export {
  formatBytes,
  formatDisplay,
  formatFloat,
  formatJson,
  formatRecord,
  formatString,
  formatValue,
  type FormatOptions,
  type Style,
} from './format.js';
export { PathError, formatPath, isIndex, parsePath } from './path.js';
export {
  readRecordBatches,
  readRecords,
  type InputFormat,
  type ReadOptions,
  type ReadResult,
} from './read-records.js';
export { fromJsonTags } from './read-json.js';
export { DEFAULT_MAX_DEPTH, DEFAULT_MAX_INT_BYTES, DEFAULT_MAX_LINE_LENGTH } from './defaults.js';
