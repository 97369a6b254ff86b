import { ImgError } from '@img/oci-spec';

/** What run() saw of a finished command (also carried by IMG_TESTUTILS_COMMAND_FAILED). */
export interface RunResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export type TestUtilsErrorCode =
  /** A required tool is not installed (thrown under CI=true, or by a launcher whose daemon is missing). */
  | 'IMG_TESTUTILS_MISSING_TOOL'
  /** Tests need root (containerd, podman) and the process is not root. */
  | 'IMG_TESTUTILS_NOT_ROOT'
  /** run(): the command exited non-zero, was killed, timed out, or could not be started. */
  | 'IMG_TESTUTILS_COMMAND_FAILED'
  /** A launcher's daemon exited during start-up or did not become ready in time. */
  | 'IMG_TESTUTILS_START_FAILED';

/** Errors raised by @img/test-utils. */
export class TestUtilsError extends ImgError<TestUtilsErrorCode> {
  /** IMG_TESTUTILS_MISSING_TOOL: the missing tools. */
  readonly tools: readonly string[];
  /** IMG_TESTUTILS_COMMAND_FAILED: the outputs of the failed command (absent when it could not start). */
  readonly result: RunResult | undefined;

  constructor(
    code: TestUtilsErrorCode,
    message: string,
    details: { tools?: readonly string[]; result?: RunResult; cause?: unknown } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.tools = details.tools ?? [];
    this.result = details.result;
  }
}

export const INSTALL_HINT = 'install it with scripts/install-test-tools.sh';

/** The error for missing tools: "<tool> is required under CI=true; install it with ...". */
export function missingToolError(tools: readonly string[]): TestUtilsError {
  const verb = tools.length === 1 ? 'is' : 'are';
  return new TestUtilsError(
    'IMG_TESTUTILS_MISSING_TOOL',
    `${tools.join(', ')} ${verb} required under CI=true; ${INSTALL_HINT}`,
    {
      tools,
    },
  );
}
