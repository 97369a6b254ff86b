import { isAbsolute, join } from 'node:path';
import type { BlobLocation, Digest } from '@img/oci-spec';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import schema from '../../deploy-request.schema.json' with { type: 'json' };
import { CliError } from '../util/errors.js';
import { readInput, readJsonInput } from '../util/files.js';

/**
 * The JSON schema (draft-07) of a deploy request: the package's `deploy-request.schema.json`, what
 * img_rules writes and `img deploy` reads.
 */
export const DEPLOY_REQUEST_SCHEMA: Readonly<Record<string, unknown>> = schema;

/** How blobs reach the destination (rules_img's names); only `eager` is implemented here. */
export type DeployStrategy = 'eager' | 'lazy' | 'cas_registry' | 'bes';

/** Where one blob can be read: a local file, or a registry repository holding it. */
export type DeployBlobSource = { readonly file: string } | BlobLocation;

interface DeployRequestCommon {
  readonly version?: 1;
  /** The Bazel label of the deploy target (names the request in errors). */
  readonly target?: string;
  /** OCI layout directory with the image (runfiles path when relative). */
  readonly layout: string;
  /** Default eager. */
  readonly strategy?: DeployStrategy;
  /** push: tags; load: image names. */
  readonly tags: readonly string[];
  /** More tags (load: names), one per line, read at deploy time. */
  readonly tag_file?: string;
  readonly credential_helper?: string;
  /** Per-blob sources tried in order when the layout lacks the blob. */
  readonly blobs?: Readonly<Record<Digest, readonly DeployBlobSource[]>>;
}

export interface PushRequest extends DeployRequestCommon {
  readonly command: 'push';
  readonly registry: string;
  readonly repository: string;
}

export interface LoadRequest extends DeployRequestCommon {
  readonly command: 'load';
  readonly daemon: 'containerd' | 'docker' | 'podman';
  /** Registries base layers may come from (a loopback one turns on plain HTTP). */
  readonly sources?: readonly string[];
}

/** A deploy request (`deploy-request.schema.json`): what `bazel run` of image_push / image_load runs. */
export type DeployRequest = PushRequest | LoadRequest;

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: false, strict: true, strictRequired: false, strictTypes: false }).compile(
    DEPLOY_REQUEST_SCHEMA,
  );
  return compiled;
}

/** One line for the first schema error: the field's path, then what is wrong with it. */
function describeError(e: ErrorObject): string {
  const path = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '';
  const at = (field: string) => (path ? `${path}.${field}` : field);
  if (e.schemaPath.startsWith('#/definitions/blobSource'))
    return `${path}: a blob source is {"file": PATH} or {"registry": HOST, "repository": NAME}`;
  if (e.keyword === 'required')
    return `${at((e.params as { missingProperty: string }).missingProperty)}: required`;
  if (e.keyword === 'additionalProperties')
    return `${at((e.params as { additionalProperty: string }).additionalProperty)}: not a field of a deploy request`;
  if (e.keyword === 'enum')
    return `${path}: ${e.message} (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`;
  const key = e.propertyName !== undefined ? ` key ${JSON.stringify(e.propertyName)}` : '';
  return `${path || '(root)'}:${key} ${e.message}`;
}

/**
 * Read and check a deploy request: one error line names the file, the target and the field. A
 * relative path inside it is a runfiles path (see `resolveRequestPath`).
 */
export async function readDeployRequest(path: string): Promise<DeployRequest> {
  const doc = await readJsonInput(path, 'deploy request');
  const validate = validator();
  if (!validate(doc)) {
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `deploy request ${path}: ${describeError(validate.errors![0]!)}`,
    );
  }
  return doc as DeployRequest;
}

/** The name a request goes by in errors: its target label, else its file. */
export function requestName(request: DeployRequest, path: string): string {
  return request.target ?? path;
}

/** A path of a request: absolute as is; relative below $RUNFILES_DIR when set, else the current directory. */
export function resolveRequestPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const runfiles = env.RUNFILES_DIR;
  return isAbsolute(path) || !runfiles ? path : join(runfiles, path);
}

const TEMPLATED_FIELDS = ['registry', 'repository', 'tags'] as const;

/** Fail on a value that is still a {{...}} template: the request was expanded without stamping. */
export function checkNoTemplates(request: DeployRequest, name: string): void {
  const fields = request as unknown as Record<string, unknown>;
  for (const field of TEMPLATED_FIELDS) {
    const value = fields[field];
    const values = Array.isArray(value) ? value : [value];
    const templated = values.find((v) => typeof v === 'string' && v.includes('{{'));
    if (templated !== undefined) {
      throw new CliError(
        'IMG_CLI_INVALID_INPUT',
        `${name}: ${field} ${JSON.stringify(templated)} is a template but stamping is off; build with --stamp (or stamp = "force", --@img_rules//img/settings:stamp=force)`,
      );
    }
  }
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The request's tags plus those of its tag_file (push: each checked as a tag). */
export async function requestTags(request: DeployRequest, name: string): Promise<string[]> {
  if (!request.tag_file) return [...request.tags];
  const path = resolveRequestPath(request.tag_file);
  const text = (await readInput(path, `${name}: tag_file`)).toString('utf8');
  const tags = [...request.tags];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (request.command === 'push' && !TAG.test(line)) {
      throw new CliError(
        'IMG_CLI_INVALID_INPUT',
        `${name}: tag_file ${path}:${i + 1}: ${JSON.stringify(line)} is not a valid tag`,
      );
    }
    tags.push(line);
  }
  return tags;
}
