import { TemplateError } from './errors.js';
import { FUNCTIONS, printValue, truthy } from './functions.js';
import {
  type Command,
  type Node,
  type Operand,
  type Pipeline,
  type Position,
  parseTemplate,
} from './parse.js';

/** Output larger than this fails (a `range` over a huge value, nested loops). */
export const MAX_TEMPLATE_OUTPUT = 1024 * 1024;

/**
 * A field that is not there: Go prints `<no value>`; img fails instead, naming the field, unless the
 * value only feeds a condition or a function (`{{if .STABLE_X}}`, `{{or .A "b"}}`), where it is empty.
 */
const MISSING = Symbol('missing');

interface Scope {
  readonly vars: Map<string, unknown>;
  readonly parent?: Scope;
}

function lookupVar(scope: Scope, name: string): { found: boolean; value?: unknown } {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    if (s.vars.has(name)) return { found: true, value: s.vars.get(name) };
  }
  return { found: false };
}

function setVar(scope: Scope, name: string, value: unknown, pos: Position): void {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    if (s.vars.has(name)) {
      s.vars.set(name, value);
      return;
    }
  }
  throw new TemplateError(`undefined variable "$${name}"`, pos);
}

function field(value: unknown, names: readonly string[], pos: Position, what: string): unknown {
  let v = value;
  let path = what;
  for (const name of names) {
    if (v === MISSING) return MISSING;
    path += `.${name}`;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      v = Object.hasOwn(v, name) ? (v as Record<string, unknown>)[name] : MISSING;
    } else if (v === undefined || v === null) {
      return MISSING;
    } else {
      throw new TemplateError(`can't evaluate field ${name} of ${printValue(v)} (${path})`, pos);
    }
  }
  return v;
}

class Evaluator {
  #out = '';
  constructor(
    readonly root: unknown,
    readonly undefinedAsEmpty: boolean,
  ) {}

  run(nodes: readonly Node[], variables: Readonly<Record<string, unknown>> = {}): string {
    this.walk(nodes, this.root, { vars: new Map([...Object.entries(variables), ['', this.root]]) });
    return this.#out;
  }

  write(s: string, pos: Position): void {
    this.#out += s;
    if (this.#out.length > MAX_TEMPLATE_OUTPUT)
      throw new TemplateError(`output exceeds ${MAX_TEMPLATE_OUTPUT} bytes`, pos);
  }

  walk(nodes: readonly Node[], dot: unknown, scope: Scope): void {
    for (const node of nodes) {
      if (node.kind === 'text') {
        this.write(node.text, { line: 0, col: 0 });
      } else if (node.kind === 'action') {
        const v = this.pipeline(node.pipeline, dot, scope);
        if (!node.pipeline.declare) {
          if (v === MISSING && this.undefinedAsEmpty) continue;
          if (v === MISSING) {
            const name = describe(node.pipeline);
            throw new TemplateError(`${name} is not defined`, node.pipeline.pos);
          }
          this.write(v === undefined || v === null ? '<no value>' : printValue(v), node.pipeline.pos);
        }
      } else {
        const inner: Scope = { vars: new Map(), parent: scope };
        const value = this.pipeline(node.pipeline, dot, inner);
        const v = value === MISSING ? undefined : value;
        if (node.kind === 'if') {
          this.walk(truthy(v) ? node.body : node.otherwise, dot, inner);
        } else if (node.kind === 'with') {
          if (truthy(v)) this.walk(node.body, v, inner);
          else this.walk(node.otherwise, dot, inner);
        } else {
          const items: Array<[unknown, unknown]> = Array.isArray(v)
            ? v.map((x, i) => [i, x])
            : v && typeof v === 'object'
              ? Object.keys(v)
                  .sort()
                  .map((k) => [k, (v as Record<string, unknown>)[k]])
              : v === undefined || v === null || v === ''
                ? []
                : (() => {
                    throw new TemplateError(`range can't iterate over ${printValue(v)}`, node.pos);
                  })();
          if (items.length === 0) this.walk(node.otherwise, dot, inner);
          for (const [k, x] of items) {
            const names = node.pipeline.declare?.names ?? [];
            const iter: Scope = { vars: new Map(), parent: scope };
            if (names.length === 1) iter.vars.set(names[0]!, x);
            if (names.length === 2) {
              iter.vars.set(names[0]!, k);
              iter.vars.set(names[1]!, x);
            }
            this.walk(node.body, x, iter);
          }
        }
      }
    }
  }

  pipeline(p: Pipeline, dot: unknown, scope: Scope): unknown {
    let value: unknown = MISSING;
    let first = true;
    for (const cmd of p.commands) {
      value = this.command(cmd, dot, scope, first ? undefined : { value });
      first = false;
    }
    if (p.declare) {
      const v = value === MISSING ? undefined : value;
      if (p.declare.assign) setVar(scope, p.declare.names[0]!, v, p.pos);
      else if (p.declare.names.length === 1) scope.vars.set(p.declare.names[0]!, v);
    }
    return value;
  }

  command(cmd: Command, dot: unknown, scope: Scope, piped: { value: unknown } | undefined): unknown {
    const [head, ...rest] = cmd.operands;
    if (head!.kind === 'function') {
      const fn = FUNCTIONS[head!.name];
      if (!fn) throw new TemplateError(`function "${head!.name}" not defined`, head!.pos);
      const args = rest.map((o) => this.operand(o, dot, scope));
      if (piped) args.push(piped.value);
      try {
        return fn(...args.map((a) => (a === MISSING ? undefined : a)));
      } catch (err) {
        throw new TemplateError(`error calling ${head!.name}: ${(err as Error).message}`, head!.pos);
      }
    }
    if (rest.length > 0 || piped) {
      throw new TemplateError(
        `can't give argument to non-function ${describeOperand(head!)}`,
        (rest[0] ?? head)!.pos,
      );
    }
    return this.operand(head!, dot, scope);
  }

  operand(o: Operand, dot: unknown, scope: Scope): unknown {
    switch (o.kind) {
      case 'literal':
        return o.value;
      case 'field':
        return field(dot, o.names, o.pos, '');
      case 'variable': {
        const found = lookupVar(scope, o.name);
        if (!found.found) throw new TemplateError(`undefined variable "$${o.name}"`, o.pos);
        return field(found.value, o.names, o.pos, `$${o.name}`);
      }
      case 'pipeline':
        return field(this.pipeline(o.pipeline, dot, scope), o.names, o.pos, '(...)');
      case 'function': {
        const fn = FUNCTIONS[o.name];
        if (!fn) throw new TemplateError(`function "${o.name}" not defined`, o.pos);
        try {
          return fn();
        } catch (err) {
          throw new TemplateError(`error calling ${o.name}: ${(err as Error).message}`, o.pos);
        }
      }
    }
  }
}

function describeOperand(o: Operand): string {
  switch (o.kind) {
    case 'field':
      return o.names.length ? `.${o.names.join('.')}` : '.';
    case 'variable':
      return `$${[o.name, ...o.names].join('.')}`;
    case 'function':
      return o.name;
    case 'literal':
      return JSON.stringify(o.value);
    case 'pipeline':
      return '(...)';
  }
}

function describe(p: Pipeline): string {
  const last = p.commands[p.commands.length - 1]!;
  return last.operands.length === 1 ? describeOperand(last.operands[0]!) : 'the value';
}

/**
 * Expand a Go template over `data` (a JSON-like object: build settings, stamp variables, `base`...).
 * Throws TemplateError with the line and column on a syntax error, an unknown function or variable,
 * or a field printed that `data` does not define (printed as "" with `undefinedAsEmpty`). `variables`
 * are predefined `$NAME`s.
 */
export function expandTemplate(
  template: string,
  data: Readonly<Record<string, unknown>>,
  variables: Readonly<Record<string, unknown>> = {},
  undefinedAsEmpty = false,
): string {
  if (!template.includes('{{')) return template;
  return new Evaluator(data, undefinedAsEmpty).run(parseTemplate(template), variables);
}
