import { describe, expect, it } from 'vitest';
import { redactUrl, SecretScrubber } from './redact.js';

describe('redaction', () => {
  it('drops userinfo and hides query values other than harmless ones', () => {
    expect(
      redactUrl('https://u:p@reg.io/v2/a/blobs/uploads/x?_state=SECRET&digest=sha256:1&X-Amz-Signature=sig'),
    ).toBe('https://reg.io/v2/a/blobs/uploads/x?_state=REDACTED&digest=sha256%3A1&X-Amz-Signature=REDACTED');
    expect(redactUrl('not a url')).toBe('<invalid url>');
  });

  it('scrubs every secret it was given', () => {
    const s = new SecretScrubber();
    s.add('hunter22', undefined, 'abc');
    expect(s.scrub('pw hunter22 and hunter22; abc stays (too short)')).toBe(
      'pw *** and ***; abc stays (too short)',
    );
  });
});
