// A text file held in memory with its line starts, so any byte offset can be turned into the
// line and column a person sees in an editor, and into a short snippet for an error message.

export interface SourceFile {
  /** The name shown to the user: a path, or a label such as "<embedded default rules>". */
  readonly name: string;
  readonly text: string;
  readonly lineStarts: readonly number[];
}

export interface SourcePosition {
  /** 1-based line and column. */
  line: number;
  column: number;
  offset: number;
}

export function sourceFile(name: string, text: string): SourceFile {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  }
  return { name, text, lineStarts };
}

export function positionAt(file: SourceFile, offset: number): SourcePosition {
  const clamped = Math.max(0, Math.min(offset, file.text.length));
  let lo = 0;
  let hi = file.lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (file.lineStarts[mid] <= clamped) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: clamped - file.lineStarts[lo] + 1, offset: clamped };
}

/** The line holding `offset` with a caret under the column, prefixed by the line number. */
export function snippetAt(file: SourceFile, offset: number): string {
  const pos = positionAt(file, offset);
  const start = file.lineStarts[pos.line - 1];
  const nextStart = file.lineStarts[pos.line] ?? file.text.length + 1;
  const lineText = file.text.slice(start, nextStart - 1).replace(/\r$/, "");
  const gutter = `${pos.line} | `;
  const caretPad = " ".repeat(gutter.length + Math.min(pos.column - 1, lineText.length));
  return `${gutter}${lineText}\n${caretPad}^`;
}
