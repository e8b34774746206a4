/**
 * Contact import and export's public surface (import.ts, import-parse.ts, import-routes.ts): what
 * app.ts wires. The parser is pure and usable alone (`parseImport`).
 */
export { createContactImports, type ContactImports, type ContactImportsDeps, importOptions } from './import.ts';
export { contactImportRoutes } from './import-routes.ts';
export { parseImport, ImportFileError, type ImportParseOptions, type ImportRecord, type ImportRow, type ImportRowError } from './import-parse.ts';
