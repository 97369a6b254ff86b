import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ciRequires, run, useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { type StoreKind, startTestServer } from '../helpers.js';

const tools = ciRequires('oci-conformance');
const casTools = ciRequires('oci-conformance', 'bgd');
const results = useTempDir('cas-registry-conformance-');
const servers = {
  file: tools.skip ? undefined : await startTestServer(),
  cas: casTools.skip ? undefined : await startTestServer({ store: 'cas' }),
};

/**
 * Passed tests with every API group on (pull, push incl. single-POST/chunked/out-of-order/mounts/
 * cancel/tag parameters, tag listing, referrers, all deletes) and the default data sets. A lower
 * count means a regression even if nothing reports a failure (a test that stopped running).
 */
const EXPECTED_PASSED = 986;

interface JunitSummary {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  disabled: number;
  failed: string[];
}

function attr(tag: string, name: string): number {
  const m = new RegExp(`\\s${name}="(\\d+)"`).exec(tag);
  return m ? Number(m[1]) : 0;
}

function parseJunit(xml: string): JunitSummary {
  const suites = /<testsuites\b[^>]*>/.exec(xml)?.[0];
  if (!suites) throw new Error('junit.xml has no <testsuites> element');
  const failed = [...xml.matchAll(/<testcase name="([^"]*)"[^>]*status="(?:failure|error)"/g)].map(
    (m) => m[1]!,
  );
  return {
    tests: attr(suites, 'tests'),
    failures: attr(suites, 'failures'),
    errors: attr(suites, 'errors'),
    skipped: attr(suites, 'skipped'),
    disabled: attr(suites, 'disabled'),
    failed,
  };
}

describe.each([
  ['file', 'files', tools.skip],
  ['cas', "BuildGrid's CAS", casTools.skip],
] as const)('the OCI distribution-spec conformance suite, blobs in %s (%s)', (store: StoreKind, _, skip) => {
  it.skipIf(skip)(
    'passes every test of the pull, push, content discovery and content management groups',
    async () => {
      const t = servers[store]!;
      const dir = results.join(store);
      await mkdir(dir, { recursive: true });
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        OCI_REGISTRY: t.server.address,
        OCI_TLS: 'disabled',
        OCI_REPO1: 'conformance/repo1',
        OCI_REPO2: 'conformance/repo2',
        OCI_RESULTS_DIR: dir,
        OCI_VERSION: '1.1',
        OCI_LOG: 'warn',
        OCI_API_PULL: 'true',
        OCI_API_PUSH: 'true',
        OCI_API_BLOBS_ATOMIC: 'true',
        OCI_API_BLOBS_DELETE: 'true',
        OCI_API_BLOBS_DIGEST_HEADER: 'true',
        OCI_API_BLOBS_MOUNT_ANONYMOUS: 'true',
        OCI_API_BLOBS_UPLOAD_CANCEL: 'true',
        OCI_API_MANIFESTS_ATOMIC: 'true',
        OCI_API_MANIFESTS_DELETE: 'true',
        OCI_API_MANIFESTS_DIGEST_HEADER: 'true',
        OCI_API_MANIFESTS_TAG_PARAM: 'true',
        OCI_API_TAGS_ATOMIC: 'true',
        OCI_API_TAGS_DELETE: 'true',
        OCI_API_TAGS_LIST: 'true',
        OCI_API_REFERRER: 'true',
      };
      // cwd = the results dir: the suite would otherwise read an oci-conformance.yaml it finds there.
      const r = await run('oci-conformance', [], {
        env,
        cwd: dir,
        allowFailure: true,
        timeoutMs: 300_000,
      });
      const summary = parseJunit(await readFile(join(dir, 'junit.xml'), 'utf8'));
      const passed = summary.tests - summary.failures - summary.errors - summary.skipped - summary.disabled;
      console.log(
        `OCI conformance (${store} store): ${passed} passed, ${summary.failures} failed, ${summary.errors} errors, ` +
          `${summary.skipped} skipped, ${summary.disabled} disabled of ${summary.tests} (exit ${r.code})`,
      );
      expect(summary.failed, r.stderr.slice(-4000)).toEqual([]);
      expect({ failures: summary.failures, errors: summary.errors, exit: r.code }).toEqual({
        failures: 0,
        errors: 0,
        exit: 0,
      });
      expect(passed).toBeGreaterThanOrEqual(EXPECTED_PASSED);
    },
  );
});
