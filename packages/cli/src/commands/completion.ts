import type { Command, Option } from 'commander';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

interface CommandInfo {
  /** `build`, or `registry serve` for a subcommand. */
  readonly path: readonly string[];
  readonly description: string;
  readonly options: readonly Option[];
}

function commandsOf(cmd: Command, path: readonly string[] = []): CommandInfo[] {
  return cmd.commands.flatMap((c) => {
    const p = [...path, c.name()];
    const self: CommandInfo = { path: p, description: c.description(), options: c.options };
    return [self, ...commandsOf(c, p)];
  });
}

function flags(options: readonly Option[]): string[] {
  return [...options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f))), '--help'];
}

/** One line of a description, without characters the shells' quoting trips on. */
function oneLine(text: string, max = 80): string {
  const first = text
    .split('\n')[0]!
    .replace(/[`$\\"']/g, '')
    .replace(/[[\]:]/g, ' ');
  return first.length > max ? `${first.slice(0, max - 3)}...` : first;
}

function bash(commands: CommandInfo[]): string {
  const top = commands.filter((c) => c.path.length === 1);
  const cases = top.map((c) => {
    const subs = commands.filter((s) => s.path.length === 2 && s.path[0] === c.path[0]);
    const words = [
      ...subs.map((s) => s.path[1]!),
      ...flags(c.options),
      ...subs.flatMap((s) => flags(s.options)),
    ];
    return `    ${c.path[0]}) words="${[...new Set(words)].join(' ')}" ;;`;
  });
  return `# bash completion for img (img completion bash > /etc/bash_completion.d/img, or source it)
_img() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" words="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "${top.map((c) => c.path[0]).join(' ')} --help --version --quiet --json" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases.join('\n')}
  esac
  if [[ "$cur" == -* || "$cmd" == registry ]]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o default -o bashdefault -F _img img
`;
}

function zshQuote(text: string): string {
  return text.replace(/'/g, "'\\''");
}

function zsh(commands: CommandInfo[]): string {
  const top = commands.filter((c) => c.path.length === 1);
  const described = top.map((c) => `    '${c.path[0]}:${zshQuote(oneLine(c.description))}'`);
  const cases = top.map((c) => {
    const subs = commands.filter((s) => s.path.length === 2 && s.path[0] === c.path[0]);
    const options = [...c.options, ...subs.flatMap((s) => s.options)];
    const specs = [...new Map(options.map((o) => [o.long ?? o.short, o])).values()].map((o) => {
      const value = o.required || o.optional ? `:${zshQuote(o.long?.slice(2) ?? 'value')}:_files` : '';
      return `'${o.long ?? o.short}[${zshQuote(oneLine(o.description))}]${value}'`;
    });
    const positional = subs.length
      ? `'1:subcommand:(${subs.map((s) => s.path[1]).join(' ')})'`
      : "'*:file:_files'";
    return `    (${c.path[0]}) _arguments ${[...specs, positional].join(' ')} ;;`;
  });
  return `#compdef img
# zsh completion for img (img completion zsh > "\${fpath[1]}/_img", or source it)
_img() {
  local -a commands
  commands=(
${described.join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
${cases.join('\n')}
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _img "$@"; else compdef _img img; fi
`;
}

function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fish(commands: CommandInfo[]): string {
  const lines = ['# fish completion for img (img completion fish > ~/.config/fish/completions/img.fish)'];
  lines.push('complete -c img -f');
  for (const c of commands.filter((c) => c.path.length === 1)) {
    lines.push(
      `complete -c img -n __fish_use_subcommand -a ${c.path[0]} -d ${fishQuote(oneLine(c.description))}`,
    );
  }
  for (const c of commands) {
    const when =
      c.path.length === 1
        ? `'__fish_seen_subcommand_from ${c.path[0]}'`
        : `'__fish_seen_subcommand_from ${c.path[0]}; and __fish_seen_subcommand_from ${c.path[1]}'`;
    if (c.path.length === 2) {
      lines.push(
        `complete -c img -n '__fish_seen_subcommand_from ${c.path[0]}' -a ${c.path[1]} -d ${fishQuote(oneLine(c.description))}`,
      );
    }
    for (const o of c.options) {
      const long = o.long ? ` -l ${o.long.slice(2)}` : '';
      const short = o.short ? ` -s ${o.short.slice(1)}` : '';
      const value = o.required || o.optional ? ' -r -F' : '';
      lines.push(`complete -c img -n ${when}${long}${short}${value} -d ${fishQuote(oneLine(o.description))}`);
    }
    if (c.path.length === 1 && !commands.some((s) => s.path.length === 2 && s.path[0] === c.path[0])) {
      lines.push(`complete -c img -n ${when} -F`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const GENERATORS: Record<Shell, (commands: CommandInfo[]) => string> = { bash, zsh, fish };

/**
 * `img completion bash|zsh|fish`: a completion script generated from the command tree (commands,
 * subcommands, flags, files for arguments). Static: pressing Tab never starts Node.
 */
export function registerCompletion(program: Command, io: Io): void {
  program
    .command('completion')
    .description('print a shell completion script: img completion bash|zsh|fish')
    .argument('<shell>', SHELLS.join(' | '))
    .addHelpText(
      'after',
      `
Install:
  bash  img completion bash > ~/.local/share/bash-completion/completions/img
  zsh   img completion zsh > "\${fpath[1]}/_img"
  fish  img completion fish > ~/.config/fish/completions/img.fish`,
    )
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) {
        throw new CliError('IMG_CLI_USAGE', `${JSON.stringify(shell)}: expected one of ${SHELLS.join(', ')}`);
      }
      const script = GENERATORS[shell as Shell](
        commandsOf(program).filter((c) => c.path[0] !== 'completion'),
      );
      io.result?.({ shell, script });
      if (io.write && !io.result) io.write(script);
      else if (!io.result) io.out(script.trimEnd());
    });
}
