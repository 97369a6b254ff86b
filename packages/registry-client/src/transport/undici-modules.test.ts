import * as undici from 'undici';
import request from 'undici/lib/api/api-request.js';
import Agent from 'undici/lib/dispatcher/agent.js';
import { describe, expect, it } from 'vitest';

// transport.ts imports these by module path to skip the rest of undici at start-up: an undici upgrade
// that moves them fails here.
describe('undici modules imported by path', () => {
  it('are the Agent and Dispatcher#request undici exports', () => {
    expect(Agent).toBe(undici.Agent);
    expect(request).toBe(undici.Dispatcher.prototype.request);
  });
});
