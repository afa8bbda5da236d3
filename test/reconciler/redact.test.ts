import { describe, expect, it } from 'vitest';
import { envTokenProvider } from '../../reconciler/auth/tokens.js';
import { REDACTED, redactSecrets, redactText, rememberSecret } from '../../reconciler/core/redact.js';
import { jsonSafe, terminalSafe } from '../../reconciler/core/text.js';

const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20iLCJ0aWQiOiJ0In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
const OPAQUE = 'Zq8~opaque.client-secret_value_4f1e';

describe('the redaction every output goes through', () => {
  it('masks tokens, Bearer credentials, secret parameters, PEM blocks and the secrets the process holds', () => {
    rememberSecret(OPAQUE);
    rememberSecret('short');
    expect(redactText(`HTTP 400: Authorization: Bearer ${JWT} rejected`)).toBe(`HTTP 400: Authorization: Bearer ${REDACTED} rejected`);
    expect(redactText('Bearer 0pAqUe-t0ken.value')).toBe(REDACTED);
    expect(redactText('grant_type=client_credentials&client_secret=abc123&scope=x')).toBe(`grant_type=client_credentials&client_secret=${REDACTED}&scope=x`);
    expect(redactText('key -----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY----- end')).toBe(`key ${REDACTED} end`);
    expect(redactText(`the service says: invalid secret '${OPAQUE}'`)).toBe(`the service says: invalid secret '${REDACTED}'`);
    expect(redactText('a short word stays')).toBe('a short word stays');
  });

  it('takes secret-named properties for secrets, but not map keys such as an owner contact', () => {
    const value = { clientSecret: 'x', 'password-reset@contoso.example': { owner: 'Helpdesk', findings: 2 }, isPasswordRequired: false, note: `token ${JWT}` };
    expect(redactSecrets(value)).toEqual({ clientSecret: REDACTED, 'password-reset@contoso.example': { owner: 'Helpdesk', findings: 2 }, isPasswordRequired: false, note: `token ${REDACTED}` });
  });

  it('remembers the tokens it is given, so an opaque one is masked too', async () => {
    const token = 'opaque-access-token-0123456789';
    const provider = envTokenProvider({ POSTURE_ACCESS_TOKEN: token });
    expect(await provider!.token('graph')).toBe(token);
    expect(redactText(`HTTP 401: ${token} is not valid`)).toBe(`HTTP 401: ${REDACTED} is not valid`);
  });
});

describe('safe text', () => {
  it('terminalSafe and jsonSafe leave ordinary text alone', () => {
    const text = 'Contoso · “Mail” — Zürich 東京 ✓ tab';
    expect(terminalSafe(text)).toBe(text);
    expect(jsonSafe(JSON.stringify(text))).toBe(JSON.stringify(text));
  });
});
