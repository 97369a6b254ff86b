/** A 1-based line and column in a template. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** A template that does not parse or evaluate; `pos` is the 1-based line and column in the template. */
export class TemplateError extends Error {
  constructor(
    readonly detail: string,
    readonly pos: Position,
  ) {
    super(`${pos.line}:${pos.col}: ${detail}`);
    this.name = 'TemplateError';
  }
}
