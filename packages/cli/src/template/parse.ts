import { type Position, TemplateError } from './errors.js';

export type { Position } from './errors.js';

/**
 * A parser for Go's text/template syntax (the subset rules_img's templates use): text and `{{ }}`
 * actions with `{{-`/`-}}` trimming and comments, pipelines with `|`, variables (`$x := ...`), fields
 * (`.a.b`, `$x.a`), string/raw/number/bool/nil literals, parenthesised pipelines, and the control
 * structures if / else if / else, range (with `$i, $e :=`), with, end.
 */

export type Operand =
  | { readonly kind: 'field'; readonly pos: Position; readonly names: readonly string[] }
  | {
      readonly kind: 'variable';
      readonly pos: Position;
      readonly name: string;
      readonly names: readonly string[];
    }
  | { readonly kind: 'function'; readonly pos: Position; readonly name: string }
  | { readonly kind: 'literal'; readonly pos: Position; readonly value: unknown }
  | {
      readonly kind: 'pipeline';
      readonly pos: Position;
      readonly pipeline: Pipeline;
      readonly names: readonly string[];
    };

export interface Command {
  readonly pos: Position;
  readonly operands: readonly Operand[];
}

export interface Pipeline {
  readonly pos: Position;
  readonly declare?: { readonly names: readonly string[]; readonly assign: boolean };
  readonly commands: readonly Command[];
}

export type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'action'; readonly pipeline: Pipeline }
  | {
      readonly kind: 'if' | 'with' | 'range';
      readonly pos: Position;
      readonly pipeline: Pipeline;
      readonly body: readonly Node[];
      readonly otherwise: readonly Node[];
    };

type TokenKind =
  | 'field'
  | 'variable'
  | 'identifier'
  | 'string'
  | 'number'
  | 'pipe'
  | 'lparen'
  | 'rparen'
  | 'declare'
  | 'assign'
  | 'comma'
  | 'dot';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly pos: Position;
  /** for strings: the decoded value */
  readonly value?: string;
}

const KEYWORDS = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'define',
  'template',
  'block',
  'break',
  'continue',
]);
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER =
  /[-+]?(?:0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][-+]?\d+)?)/y;

function positionAt(source: string, offset: number): Position {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return { line, col };
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  '"': '"',
  "'": "'",
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '0': '\0',
};

/** Split one action's inside into tokens. `base` is the offset of `inside` in the source. */
function tokenize(source: string, start: number, end: number): Token[] {
  const tokens: Token[] = [];
  let i = start;
  const fail = (at: number, message: string): never => {
    throw new TemplateError(message, positionAt(source, at));
  };
  while (i < end) {
    const c = source[i]!;
    const pos = positionAt(source, i);
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '|') {
      tokens.push({ kind: 'pipe', text: c, pos });
      i++;
    } else if (c === '(') {
      tokens.push({ kind: 'lparen', text: c, pos });
      i++;
    } else if (c === ')') {
      tokens.push({ kind: 'rparen', text: c, pos });
      i++;
    } else if (c === ',') {
      tokens.push({ kind: 'comma', text: c, pos });
      i++;
    } else if (c === ':' && source[i + 1] === '=') {
      tokens.push({ kind: 'declare', text: ':=', pos });
      i += 2;
    } else if (c === '=') {
      tokens.push({ kind: 'assign', text: '=', pos });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let value = '';
      while (j < end && source[j] !== '"') {
        if (source[j] === '\n') fail(j, 'unterminated quoted string');
        if (source[j] === '\\') {
          const e = source[j + 1];
          if (e === 'x' || e === 'u' || e === 'U') {
            const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
            const hex = source.slice(j + 2, j + 2 + len);
            if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail(j, 'invalid escape in string');
            value += String.fromCodePoint(Number.parseInt(hex, 16));
            j += 2 + len;
            continue;
          }
          const mapped = e === undefined ? undefined : ESCAPES[e];
          if (mapped === undefined) fail(j, `invalid escape \\${e ?? ''} in string`);
          value += mapped;
          j += 2;
          continue;
        }
        value += source[j];
        j++;
      }
      if (j >= end) fail(i, 'unterminated quoted string');
      tokens.push({ kind: 'string', text: source.slice(i, j + 1), pos, value });
      i = j + 1;
    } else if (c === '`') {
      const j = source.indexOf('`', i + 1);
      if (j < 0 || j >= end) fail(i, 'unterminated raw string');
      tokens.push({ kind: 'string', text: source.slice(i, j + 1), pos, value: source.slice(i + 1, j) });
      i = j + 1;
    } else if (c === '.' || c === '$') {
      let j = i + 1;
      if (c === '$') {
        IDENT.lastIndex = j;
        const m = IDENT.exec(source);
        if (m && m.index === j && j + m[0].length <= end) j += m[0].length;
      } else if (/[0-9]/.test(source[j] ?? '')) {
        NUMBER.lastIndex = i;
        const m = NUMBER.exec(source)!;
        tokens.push({ kind: 'number', text: m[0], pos });
        i += m[0].length;
        continue;
      } else {
        IDENT.lastIndex = j;
        const m = IDENT.exec(source);
        if (m && m.index === j) j += m[0].length;
        else {
          tokens.push({ kind: 'dot', text: '.', pos });
          i = j;
          continue;
        }
      }
      // a chain of .field after the first element
      while (source[j] === '.' && j < end) {
        IDENT.lastIndex = j + 1;
        const m = IDENT.exec(source);
        if (!m || m.index !== j + 1)
          fail(j, `bad field name after ${JSON.stringify(source.slice(i, j + 1))}`);
        j += 1 + m![0].length;
      }
      tokens.push({ kind: c === '$' ? 'variable' : 'field', text: source.slice(i, j), pos });
      i = j;
    } else if (/[0-9+-]/.test(c)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(source);
      if (!m || m[0] === '' || m[0] === '-' || m[0] === '+')
        fail(i, `unexpected ${JSON.stringify(c)} in action`);
      tokens.push({ kind: 'number', text: m![0], pos });
      i += m![0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      IDENT.lastIndex = i;
      const m = IDENT.exec(source)!;
      tokens.push({ kind: 'identifier', text: m[0], pos });
      i += m[0].length;
      // a field chain directly after an identifier call result is not Go syntax; leave it to the parser
    } else {
      fail(i, `unexpected ${JSON.stringify(c)} in action`);
    }
  }
  return tokens;
}

function parseNumber(text: string): number {
  const clean = text.replace(/_/g, '');
  let n: number;
  if (/^[-+]?0[xX]/.test(clean))
    n = Number.parseInt(clean.replace(/0[xX]/, ''), 16) * (clean.startsWith('-') ? -1 : 1);
  else if (/^[-+]?0[bB]/.test(clean))
    n = Number.parseInt(clean.replace(/0[bB]/, ''), 2) * (clean.startsWith('-') ? -1 : 1);
  else if (/^[-+]?0[oO]/.test(clean))
    n = Number.parseInt(clean.replace(/0[oO]/, ''), 8) * (clean.startsWith('-') ? -1 : 1);
  else if (/^[-+]?0[0-7]+$/.test(clean)) n = Number.parseInt(clean, 8);
  else n = Number(clean);
  return n;
}

/** Parses the tokens of one action. */
class ActionParser {
  #i = 0;
  constructor(
    readonly tokens: readonly Token[],
    readonly endPos: Position,
  ) {}

  get done(): boolean {
    return this.#i >= this.tokens.length;
  }

  peek(offset = 0): Token | undefined {
    return this.tokens[this.#i + offset];
  }

  next(): Token {
    const t = this.tokens[this.#i++];
    if (!t) throw new TemplateError('unexpected end of action', this.endPos);
    return t;
  }

  pipeline(allowDeclare: boolean, stop: TokenKind | undefined): Pipeline {
    const first = this.peek();
    const pos = first?.pos ?? this.endPos;
    let declare: Pipeline['declare'];
    if (allowDeclare && first?.kind === 'variable' && !first.text.includes('.', 1)) {
      const second = this.peek(1);
      if (second?.kind === 'declare' || second?.kind === 'assign') {
        this.#i += 2;
        declare = { names: [first.text.slice(1)], assign: second.kind === 'assign' };
      } else if (
        second?.kind === 'comma' &&
        this.peek(2)?.kind === 'variable' &&
        this.peek(3)?.kind === 'declare'
      ) {
        declare = { names: [first.text.slice(1), this.peek(2)!.text.slice(1)], assign: false };
        this.#i += 4;
      }
    }
    const commands: Command[] = [];
    for (;;) {
      commands.push(this.command(stop));
      const t = this.peek();
      if (t?.kind === 'pipe') {
        this.#i++;
        continue;
      }
      break;
    }
    return { pos, ...(declare ? { declare } : {}), commands };
  }

  command(stop: TokenKind | undefined): Command {
    const operands: Operand[] = [];
    const pos = this.peek()?.pos ?? this.endPos;
    for (;;) {
      const t = this.peek();
      if (!t || t.kind === 'pipe' || (stop && t.kind === stop)) break;
      operands.push(this.operand());
    }
    if (operands.length === 0) throw new TemplateError('missing value for command', pos);
    return { pos, operands };
  }

  operand(): Operand {
    const t = this.next();
    const chain = (text: string) => text.split('.').filter(Boolean);
    switch (t.kind) {
      case 'field':
        return { kind: 'field', pos: t.pos, names: chain(t.text) };
      case 'dot':
        return { kind: 'field', pos: t.pos, names: [] };
      case 'variable': {
        const [name, ...names] = t.text.slice(1).split('.');
        return { kind: 'variable', pos: t.pos, name: name!, names };
      }
      case 'string':
        return { kind: 'literal', pos: t.pos, value: t.value };
      case 'number': {
        const n = parseNumber(t.text);
        if (Number.isNaN(n)) throw new TemplateError(`bad number syntax: ${JSON.stringify(t.text)}`, t.pos);
        return { kind: 'literal', pos: t.pos, value: n };
      }
      case 'identifier':
        if (t.text === 'true' || t.text === 'false')
          return { kind: 'literal', pos: t.pos, value: t.text === 'true' };
        if (t.text === 'nil') return { kind: 'literal', pos: t.pos, value: null };
        if (KEYWORDS.has(t.text))
          throw new TemplateError(`unexpected keyword ${JSON.stringify(t.text)} in command`, t.pos);
        return { kind: 'function', pos: t.pos, name: t.text };
      case 'lparen': {
        const pipeline = this.pipeline(false, 'rparen');
        const close = this.next();
        if (close.kind !== 'rparen') throw new TemplateError('unclosed left paren', t.pos);
        // (pipeline).field.chain: the field token follows without a space
        const after = this.peek();
        let names: string[] = [];
        if (
          after?.kind === 'field' &&
          after.pos.line === close.pos.line &&
          after.pos.col === close.pos.col + 1
        ) {
          this.#i++;
          names = chain(after.text);
        }
        return { kind: 'pipeline', pos: t.pos, pipeline, names };
      }
      default:
        throw new TemplateError(`unexpected ${JSON.stringify(t.text)} in operand`, t.pos);
    }
  }
}

interface Frame {
  readonly kind: 'if' | 'with' | 'range' | 'root';
  readonly pos: Position;
  readonly pipeline?: Pipeline;
  body: Node[];
  otherwise: Node[];
  inElse: boolean;
  /** `else if`: the frame closes together with its parent at `end` */
  readonly chained: boolean;
}

/** Parse a template; errors carry the line and column of the offending token. */
export function parseTemplate(source: string): Node[] {
  const stack: Frame[] = [
    { kind: 'root', pos: { line: 1, col: 1 }, body: [], otherwise: [], inElse: false, chained: false },
  ];
  const top = () => stack[stack.length - 1]!;
  const emit = (node: Node) => {
    const f = top();
    (f.inElse ? f.otherwise : f.body).push(node);
  };
  const closeFrame = (): void => {
    const f = stack.pop()!;
    emit({ kind: f.kind as 'if', pos: f.pos, pipeline: f.pipeline!, body: f.body, otherwise: f.otherwise });
  };
  let i = 0;
  let trimNext = false;
  while (i <= source.length) {
    const open = source.indexOf('{{', i);
    let text = source.slice(i, open < 0 ? source.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) emit({ kind: 'text', text });
      break;
    }
    let inner = open + 2;
    if (source[inner] === '-' && /[ \t\r\n]/.test(source[inner + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      inner += 1;
    }
    if (text) emit({ kind: 'text', text });
    const openPos = positionAt(source, open);
    // find the closing }} outside string literals
    let j = inner;
    let close = -1;
    while (j < source.length) {
      const c = source[j];
      if (c === '"') {
        j++;
        while (j < source.length && source[j] !== '"') j += source[j] === '\\' ? 2 : 1;
        j++;
      } else if (c === '`') {
        const k = source.indexOf('`', j + 1);
        j = k < 0 ? source.length : k + 1;
      } else if (source.startsWith('/*', j) && source.slice(inner, j).trim() === '') {
        const k = source.indexOf('*/', j + 2);
        if (k < 0) throw new TemplateError('unclosed comment', positionAt(source, j));
        j = k + 2;
      } else if (source.startsWith('}}', j)) {
        close = j;
        break;
      } else j++;
    }
    if (close < 0) throw new TemplateError('unclosed action', openPos);
    let innerEnd = close;
    if (source[close - 1] === '-' && /[ \t\r\n]/.test(source[close - 2] ?? '') && close - 1 >= inner) {
      innerEnd = close - 1;
      trimNext = true;
    }
    i = close + 2;
    const body = source.slice(inner, innerEnd).trim();
    if (body.startsWith('/*')) {
      if (!body.endsWith('*/')) throw new TemplateError('comment ends before closing delimiter', openPos);
      continue;
    }
    const tokens = tokenize(source, inner, innerEnd);
    const endPos = positionAt(source, innerEnd);
    if (tokens.length === 0) throw new TemplateError('missing value for command', openPos);
    const first = tokens[0]!;
    const keyword = first.kind === 'identifier' && KEYWORDS.has(first.text) ? first.text : undefined;
    const parser = new ActionParser(tokens.slice(keyword ? 1 : 0), endPos);
    const fullPipeline = (allowDeclare: boolean): Pipeline => {
      if (parser.done) throw new TemplateError(`missing value for ${keyword}`, first.pos);
      const p = parser.pipeline(allowDeclare, undefined);
      if (!parser.done)
        throw new TemplateError(
          `unexpected ${JSON.stringify(parser.peek()!.text)} in ${keyword ?? 'command'}`,
          parser.peek()!.pos,
        );
      return p;
    };
    switch (keyword) {
      case undefined: {
        const p = parser.pipeline(true, undefined);
        if (!parser.done)
          throw new TemplateError(
            `unexpected ${JSON.stringify(parser.peek()!.text)} in command`,
            parser.peek()!.pos,
          );
        emit({ kind: 'action', pipeline: p });
        break;
      }
      case 'if':
      case 'with':
      case 'range':
        stack.push({
          kind: keyword,
          pos: first.pos,
          pipeline: fullPipeline(keyword !== 'if' || true),
          body: [],
          otherwise: [],
          inElse: false,
          chained: false,
        });
        break;
      case 'else': {
        const f = top();
        if (f.kind === 'root' || f.inElse) throw new TemplateError('unexpected {{else}}', first.pos);
        f.inElse = true;
        const chainedKind = parser.peek();
        if (
          chainedKind?.kind === 'identifier' &&
          (chainedKind.text === 'if' || chainedKind.text === 'with')
        ) {
          parser.next();
          if (parser.done) throw new TemplateError(`missing value for ${chainedKind.text}`, chainedKind.pos);
          const p = parser.pipeline(true, undefined);
          if (!parser.done)
            throw new TemplateError(
              `unexpected ${JSON.stringify(parser.peek()!.text)} in else`,
              parser.peek()!.pos,
            );
          stack.push({
            kind: chainedKind.text as 'if',
            pos: chainedKind.pos,
            pipeline: p,
            body: [],
            otherwise: [],
            inElse: false,
            chained: true,
          });
        } else if (!parser.done) {
          throw new TemplateError(
            `unexpected ${JSON.stringify(parser.peek()!.text)} in else`,
            parser.peek()!.pos,
          );
        }
        break;
      }
      case 'end': {
        if (!parser.done)
          throw new TemplateError(
            `unexpected ${JSON.stringify(parser.peek()!.text)} in end`,
            parser.peek()!.pos,
          );
        if (top().kind === 'root') throw new TemplateError('unexpected {{end}}', first.pos);
        for (;;) {
          const chained = top().chained;
          closeFrame();
          if (!chained) break;
        }
        break;
      }
      default:
        throw new TemplateError(`{{${keyword}}} is not supported in img templates`, first.pos);
    }
  }
  if (stack.length > 1)
    throw new TemplateError(`unexpected EOF: {{${top().kind}}} has no {{end}}`, top().pos);
  return stack[0]!.body;
}
