import type { Position } from './parse.js';

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
