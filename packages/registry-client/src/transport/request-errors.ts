/** The RegistryErrors of one request: a network failure or an unexpected status, one line each. */
import { codeForStatus, parseErrorBody, RegistryError, type RegistryErrorCode } from '../errors.js';
import { redactUrl, type SecretScrubber } from '../redact.js';
import { dump, readTextPrefix } from './body.js';
import { errorCode, isRetryableStatus, parseRetryAfter } from './retry.js';
import { type HttpResponse, header, whereOf } from './sender.js';
import { describeTimeout } from './timeouts.js';

/** What an error message says about a request: `GET manifest r.io/app: GET https://...: why`. */
export interface RequestLabel {
  readonly method: string;
  readonly url: URL;
  readonly what: string;
  readonly registry: string;
  readonly repository?: string;
}

export function requestError(
  req: RequestLabel,
  code: RegistryErrorCode,
  why: string,
  scrubber: SecretScrubber,
  extra: Omit<ConstructorParameters<typeof RegistryError>[2] & object, 'registry' | 'repository'> = {},
): RegistryError {
  const message = scrubber.scrub(`${req.what} ${whereOf(req)}: ${req.method} ${redactUrl(req.url)}: ${why}`);
  return new RegistryError(code, message, {
    registry: req.registry,
    repository: req.repository,
    method: req.method,
    url: redactUrl(req.url),
    ...extra,
  });
}

/** A failure below HTTP (refused, reset, timed out) as a RegistryError naming the address. */
export function networkError(
  req: RequestLabel,
  cause: unknown,
  options: {
    scrubber: SecretScrubber;
    connectTimeoutMs: number;
    idleTimeoutMs: number;
    retryable: boolean;
    /** Where in the exchange it broke, e.g. `after 1024 bytes of the response body`. */
    where?: string;
  },
): RegistryError {
  const code = errorCode(cause);
  const message = (cause as Error)?.message ?? String(cause);
  const host = req.url.host;
  const at = options.where ? ` ${options.where}` : '';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    const why = `${host}: ${describeTimeout('connect', options.connectTimeoutMs)}`;
    return requestError(req, 'IMG_REGISTRY_TIMEOUT', why, options.scrubber, { cause });
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    const why = `${host}: ${describeTimeout('idle', options.idleTimeoutMs)}${at}`;
    return requestError(req, 'IMG_REGISTRY_TIMEOUT', why, options.scrubber, { cause });
  }
  let why = message;
  if (code === 'ECONNREFUSED') why = `connection refused by ${host} (nothing listens there)`;
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') why = `cannot resolve ${req.url.hostname} (${code})`;
  else if (code && !message.includes(code)) why = `${message} (${code})`;
  why += at;
  return requestError(req, 'IMG_REGISTRY_NETWORK_ERROR', why, options.scrubber, {
    retryable: options.retryable,
    cause,
  });
}

/** The RegistryError for an unexpected status; reads (a bounded prefix of) the body. */
export async function statusError(
  req: RequestLabel,
  res: HttpResponse,
  scrubber: SecretScrubber,
  hint = '',
): Promise<RegistryError> {
  const text = req.method === 'HEAD' ? '' : await readTextPrefix(res.body);
  if (req.method === 'HEAD') await dump(res.body);
  const diagnostics = parseErrorBody(text);
  const first = diagnostics[0];
  let why = `HTTP ${res.status}`;
  if (first) why += ` ${first.code}${first.message ? `: ${first.message}` : ''}`;
  else if (text.trim() !== '') why += `: ${text.trim().slice(0, 200)}`;
  if (res.status >= 300 && res.status < 400 && header(res, 'location') !== undefined) {
    why += ' (a redirect not followed: too many, or not a GET/HEAD)';
  }
  why += hint;
  const retryAfterMs = parseRetryAfter(header(res, 'retry-after'));
  return requestError({ ...req, url: res.url }, codeForStatus(res.status), why, scrubber, {
    status: res.status,
    retryable: isRetryableStatus(res.status),
    diagnostics,
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  });
}
