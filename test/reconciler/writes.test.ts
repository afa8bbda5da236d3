import { describe, expect, it } from 'vitest';
import { writeProblem } from '../../reconciler/apply/writes.js';

const graph = (method: string, path: string) => writeProblem({ api: 'graph', method, path });

describe('writeProblem: only the writes apply makes, in their one canonical form', () => {
  it('accepts every write apply makes, ids percent-encoded as apply encodes them', () => {
    expect(graph('POST', '/identity/conditionalAccess/policies')).toBeUndefined();
    expect(graph('PATCH', '/identity/conditionalAccess/policies/ce928953-87d4-5e66-9e1e-1e973988a885')).toBeUndefined();
    expect(graph('DELETE', '/identity/conditionalAccess/policies/ce928953-87d4-5e66-9e1e-1e973988a885')).toBeUndefined();
    expect(graph('PATCH', '/policies/authorizationPolicy')).toBeUndefined();
    expect(graph('PUT', '/policies/adminConsentRequestPolicy')).toBeUndefined();
    expect(graph('POST', '/oauth2PermissionGrants')).toBeUndefined();
    expect(graph('DELETE', '/oauth2PermissionGrants/l5-a9tcgMk2nd5vExr4o5rDH2E7m7HFMpeTvMWGNrrQ')).toBeUndefined();
    expect(graph('POST', '/users/6c0c8543-6c3d-5c16-a0fe-5579aadd9158/mailFolders/inbox/messageRules')).toBeUndefined();
    // A base64 rule id holds "/", "+" and "=": encoded, they are part of the id.
    expect(graph('DELETE', `/users/6c0c8543/mailFolders/inbox/messageRules/${encodeURIComponent('AQAA/x+y=')}`)).toBeUndefined();
    expect(graph('DELETE', '/users/6c0c8543/mailFolders/inbox/messageRules/AQ=')).toBeUndefined();
    for (const cmdlet of ['Set-HostedOutboundSpamFilterPolicy', 'Set-RemoteDomain', 'Set-Mailbox', 'Set-AntiPhishPolicy', 'New-DkimSigningConfig', 'Set-DkimSigningConfig', 'Disable-TransportRule', 'Enable-TransportRule']) {
      expect(writeProblem({ api: 'exchange', cmdlet, parameters: { Identity: 'x' } })).toBeUndefined();
    }
  });

  it.each([
    ['a dot segment', 'PATCH', '/identity/./conditionalAccess/policies/abc', 'it holds the dot segment "."'],
    ['a parent segment', 'PATCH', '/identity/x/../conditionalAccess/policies/abc', 'it holds the dot segment ".."'],
    ['an encoded dot segment', 'PATCH', '/identity/%2E/conditionalAccess/policies/abc', 'it holds the dot segment "%2E"'],
    ['an absolute URL on the Graph host', 'PATCH', 'https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies/abc', 'it is an absolute URL, not a path on the Graph endpoint'],
    ['another origin', 'PATCH', 'http://127.0.0.1:9/steal', 'it is an absolute URL, not a path on the Graph endpoint'],
    ['a protocol-relative URL', 'PATCH', '//evil.example/identity/conditionalAccess/policies/abc', 'it holds a doubled slash'],
    ['a doubled slash', 'PATCH', '/identity//conditionalAccess/policies/abc', 'it holds a doubled slash'],
    ['a query', 'PATCH', '/identity/conditionalAccess/policies/abc?$select=id', 'it carries a query or a fragment'],
    ['a fragment', 'PATCH', '/policies/authorizationPolicy#x', 'it carries a query or a fragment'],
    ['a backslash', 'PATCH', '/identity\\conditionalAccess/policies/abc', 'it holds a backslash, a space or a control character'],
    ['an encoded slash that changes the route', 'PATCH', '/identity%2FconditionalAccess/policies/abc', 'PATCH "/identity%2FconditionalAccess/policies/abc" is not a write apply makes'],
    ['an id that decodes to a climb', 'PATCH', '/identity/conditionalAccess/policies/..%2F..%2Fpolicies%2FauthorizationPolicy', '"..%2F..%2Fpolicies%2FauthorizationPolicy" decodes to a dot segment'],
    ['an id encoded needlessly', 'PATCH', '/identity/conditionalAccess/policies/%61bc', '"%61bc" encodes "a", which needs no encoding'],
    ['an id that hides a dot', 'DELETE', '/oauth2PermissionGrants/%2E%2E', '"%2E%2E" encodes ".", which needs no encoding'],
    ['an id with a raw quote', 'DELETE', '/oauth2PermissionGrants/a"b', '"a"b" holds a character a path segment cannot hold unencoded'],
    ['another letter case', 'PATCH', '/identity/conditionalaccess/policies/abc', 'PATCH "/identity/conditionalaccess/policies/abc" is not a write apply makes'],
    ['a trailing slash', 'PATCH', '/identity/conditionalAccess/policies/', 'an empty segment'],
    ['a read', 'GET', '/policies/authorizationPolicy', '"GET" is not a method apply writes with'],
    ['a write apply never makes', 'DELETE', '/users/abc', 'DELETE "/users/abc" is not a write apply makes'],
  ])('refuses %s', (_name, method, path, problem) => {
    expect(graph(method, path)).toBe(problem);
  });

  it('refuses a cmdlet apply never runs, and what is not a write at all', () => {
    expect(writeProblem({ api: 'exchange', cmdlet: 'Remove-Mailbox', parameters: { Identity: 'ceo' } })).toBe('"Remove-Mailbox" is not a cmdlet apply runs');
    expect(writeProblem({ api: 'exchange', cmdlet: 'Set-Mailbox', parameters: 'x' })).toBe('its parameters are not an object');
    expect(writeProblem({ api: 'smtp' })).toBe('the API "smtp" is neither graph nor exchange');
    expect(writeProblem(null)).toBe('it is not a write');
  });
});
