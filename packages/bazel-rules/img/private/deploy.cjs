'use strict';
// Runs one deploy request of image_push / image_load (`run`). Templates in the request were expanded
// at build time by an ImgTemplate action (`img template`). Plain Node, no dependencies.
//
//   node deploy.cjs run <request.json> <img.cjs> [extra img flags...]
const { spawnSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { isAbsolute, join } = require('node:path');

const TEMPLATED_FIELDS = ['registry', 'repository', 'tags'];

function die(message) {
  process.stderr.write(`img_rules deploy: ${message}\n`);
  process.exit(1);
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return die(`${path}: ${err.message}`);
  }
}

function checkNoTemplates(request) {
  for (const field of TEMPLATED_FIELDS) {
    const values = Array.isArray(request[field]) ? request[field] : [request[field]];
    const templated = values.find((v) => typeof v === 'string' && v.includes('{{'));
    if (templated !== undefined) {
      die(
        `${request.target}: ${field} ${JSON.stringify(templated)} is a template but stamping is off; build with --stamp (or stamp = "force", --@img_rules//img/settings:stamp=force)`,
      );
    }
  }
}

function isLocal(registry) {
  const host = registry.startsWith('[')
    ? registry.slice(0, registry.indexOf(']') + 1)
    : registry.split(':')[0];
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}

function hasFlag(args, flag) {
  return args.some((a) => a === flag || a.startsWith(`${flag}=`));
}

function imgArgs(request, layout, extra) {
  if (request.command === 'push') {
    const [first, ...more] = request.tags;
    const ref = `${request.registry}/${request.repository}${first ? `:${first}` : ''}`;
    const args = ['push', `oci:${layout}`, ref, ...more.flatMap((t) => ['--tag', t])];
    if (isLocal(request.registry) && !hasFlag(extra, '--insecure')) args.push('--insecure');
    return [...args, ...extra];
  }
  const args = [
    'load',
    `oci:${layout}`,
    '--daemon',
    request.daemon,
    ...request.tags.flatMap((t) => ['--tag', t]),
  ];
  // ctr's own variables choose the containerd socket and namespace unless flags are given.
  if (request.daemon === 'containerd') {
    if (process.env.CONTAINERD_ADDRESS && !hasFlag(extra, '--address'))
      args.push('--address', process.env.CONTAINERD_ADDRESS);
    if (process.env.CONTAINERD_NAMESPACE && !hasFlag(extra, '--namespace'))
      args.push('--namespace', process.env.CONTAINERD_NAMESPACE);
  }
  const sources = request.sources ?? [];
  if (sources.some(isLocal) && !hasFlag(extra, '--insecure')) args.push('--insecure');
  return [...args, ...extra];
}

/** A helper path of a setting: a relative path is the workspace's, a bare name is looked up on PATH. */
function helperPath(helper) {
  const workspace = process.env.BUILD_WORKSPACE_DIRECTORY;
  return helper.includes('/') && !isAbsolute(helper) && workspace ? join(workspace, helper) : helper;
}

/** --credential-helper from //img/settings:credential_helper. */
function credentialHelperArgs(request, extra) {
  const helper = request.credential_helper;
  if (!helper || hasFlag(extra, '--credential-helper')) return [];
  return ['--credential-helper', helperPath(helper)];
}

/**
 * The execution root, from the launcher's own path ($0 = <execroot>/<launcher>), or undefined when
 * it was started some other way (--script_path, a copy): then no local blob file is tried.
 */
function executionRoot(request) {
  const self = process.env.IMG_RULES_LAUNCHER;
  const suffix = `/${request.launcher}`;
  return self && request.launcher && self.endsWith(suffix) ? self.slice(0, -suffix.length) : undefined;
}

/**
 * Flags of a lazy push/load: the strategy, the remote cache (settings; img itself falls back to
 * $IMG_REAPI_ENDPOINT...), and per layer built here the file Bazel may have left locally and the
 * target that made it (img names it when no source has the blob).
 */
function lazyArgs(request, inRunfiles, extra) {
  if (request.strategy !== 'lazy') return [];
  const args = hasFlag(extra, '--strategy') ? [] : ['--strategy', 'lazy'];
  const flags = [
    ['remote_cache', '--remote-cache', (v) => v],
    ['remote_instance_name', '--remote-instance-name', (v) => v],
    ['credential_helper_remote_cache', '--remote-cache-credential-helper', helperPath],
  ];
  for (const [field, flag, value] of flags) {
    if (request[field] && !hasFlag(extra, flag)) args.push(flag, value(request[field]));
  }
  const execroot = executionRoot(request);
  for (const layer of request.layers ?? []) {
    if (!layer.blob) continue;
    const digest = readJson(inRunfiles(layer.metadata)).digest;
    if (typeof digest !== 'string') die(`${layer.metadata}: no digest`);
    if (execroot) args.push('--blob-file', `${digest}=${join(execroot, layer.blob)}`);
    if (layer.target) args.push('--blob-producer', `${digest}=${layer.target}`);
  }
  return args;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Tags (push) or names (load) of tag_file, one per line; blank lines and `#` comments skipped. */
function readTagFile(request, path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return die(`${request.target}: tag_file ${path}: ${err.message}`);
  }
  const tags = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (request.command === 'push' && !TAG.test(line)) {
      die(`${request.target}: tag_file ${path}:${i + 1}: ${JSON.stringify(line)} is not a valid tag`);
    }
    tags.push(line);
  }
  return tags;
}

function runRequest([requestPath, imgPath, ...extra]) {
  const request = readJson(requestPath);
  // Expanded requests keep a template only where a stamp variable was used without stamping.
  checkNoTemplates(request);
  const runfiles = process.env.RUNFILES_DIR;
  const inRunfiles = (path) => (isAbsolute(path) || !runfiles ? path : join(runfiles, path));
  const layout = inRunfiles(request.layout);
  if (request.tag_file)
    request.tags = [...request.tags, ...readTagFile(request, inRunfiles(request.tag_file))];
  if (request.command === 'load' && request.tags.length === 0) {
    die(`${request.target}: no name to load the image as (tag, tag_list and tag_file are empty)`);
  }
  const flags = [...credentialHelperArgs(request, extra), ...lazyArgs(request, inRunfiles, extra), ...extra];
  const args = imgArgs(request, layout, flags);
  // //img/settings:docker_config_path: the registry credentials file (as podman's REGISTRY_AUTH_FILE).
  const env = request.docker_config
    ? { ...process.env, REGISTRY_AUTH_FILE: request.docker_config }
    : process.env;
  const result = spawnSync(process.execPath, [imgPath, ...args], { stdio: 'inherit', env });
  if (result.error) die(`${request.target}: ${result.error.message}`);
  if (result.status !== 0) {
    process.stderr.write(
      `img_rules deploy: ${request.target}: img ${request.command} failed (exit ${result.status ?? result.signal})\n`,
    );
    process.exit(result.status || 1);
  }
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'run') runRequest(rest);
else die(`unknown mode ${JSON.stringify(mode)} (expected run)`);
