/** One challenge of a WWW-Authenticate header: the scheme in lower case and its parameters. */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parse a WWW-Authenticate header (RFC 7235): several challenges, each `scheme k=v, k="quoted, value"`.
 * Parameter names are lower-cased; quoted values may contain commas and spaces (scopes do).
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  let i = 0;
  const n = header.length;
  const skip = (re: RegExp) => {
    while (i < n && re.test(header[i]!)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  while (i < n) {
    skip(/[\s,]/);
    const word = token();
    if (word === '') {
      i++;
      continue;
    }
    skip(/\s/);
    if (header[i] === '=' && challenges.length > 0) {
      // A parameter of the current challenge.
      i++;
      skip(/\s/);
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        const start = i;
        while (i < n && header[i] !== ',') i++;
        value = header.slice(start, i).trim();
      }
      challenges[challenges.length - 1]!.params[word.toLowerCase()] = value;
    } else {
      challenges.push({ scheme: word.toLowerCase(), params: {} });
      // token68 form (`Basic abc==`) carries no parameters we use; skip it.
      if (
        /[A-Za-z0-9+/_.~-]/.test(header[i] ?? '') &&
        !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+\s*=(?!=)/.test(header.slice(i))
      ) {
        while (i < n && header[i] !== ',') i++;
      }
    }
  }
  return challenges;
}

/** The Bearer challenge if there is one, else the Basic one, else undefined. */
export function pickChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
}
