// The yaml folder's entry module: source files and positions for error messages.

export { positionAt, type SourceFile, type SourcePosition, snippetAt, sourceFile } from "./source.ts";
