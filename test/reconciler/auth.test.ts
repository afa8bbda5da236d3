import { describe, expect, it } from 'vitest';
import { authorityOptions, autoMethod, credentialMessage, CredentialError, scopeFor } from '../../reconciler/auth/tokens.js';
import { isLoopbackUrl } from '../../reconciler/input/connection.js';

describe('token scopes', () => {
  it('Microsoft endpoints are their own audience; the simulator on loopback stands for the global service', () => {
    const scope = (api: 'graph' | 'exchange', url: string) => scopeFor(api, new URL(url), isLoopbackUrl(new URL(url)));
    expect(scope('graph', 'https://graph.microsoft.com')).toBe('https://graph.microsoft.com/.default');
    expect(scope('exchange', 'https://outlook.office365.com')).toBe('https://outlook.office365.com/.default');
    expect(scope('graph', 'https://graph.microsoft.us/')).toBe('https://graph.microsoft.us/.default');
    expect(scope('exchange', 'https://outlook.office365.us/adminapi')).toBe('https://outlook.office365.us/.default');
    expect(scope('graph', 'http://127.0.0.1:4321')).toBe('https://graph.microsoft.com/.default');
    expect(scope('exchange', 'http://localhost:4322')).toBe('https://outlook.office365.com/.default');
    // A name that only starts like a loopback address is not loopback: no global token for it.
    expect(scope('graph', 'https://127.0.0.1.example')).toBe('https://127.0.0.1.example/.default');
  });

  it('loopback means this machine: localhost, 127.0.0.0/8, [::1]', () => {
    for (const u of ['http://localhost:1', 'http://127.0.0.1:1', 'http://127.255.3.4', 'http://[::1]:8080']) expect(isLoopbackUrl(new URL(u)), u).toBe(true);
    for (const u of ['http://127.evil.example', 'http://127.0.0.1.nip.io', 'http://128.0.0.1', 'http://0.0.0.0', 'https://graph.microsoft.com']) expect(isLoopbackUrl(new URL(u)), u).toBe(false);
  });
});

describe('the authority', () => {
  it('keeps instance discovery for Microsoft clouds and turns it off for any other https authority', () => {
    expect(authorityOptions({})).toEqual({});
    expect(authorityOptions({ AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us' })).toEqual({ authorityHost: 'https://login.microsoftonline.us' });
    expect(authorityOptions({ AZURE_AUTHORITY_HOST: 'https://login.chinacloudapi.cn/' })).toEqual({ authorityHost: 'https://login.chinacloudapi.cn' });
    expect(authorityOptions({ AZURE_AUTHORITY_HOST: 'https://127.0.0.1:9443' })).toEqual({ authorityHost: 'https://127.0.0.1:9443', disableInstanceDiscovery: true });
    expect(() => authorityOptions({ AZURE_AUTHORITY_HOST: 'http://127.0.0.1:9443' })).toThrow(CredentialError);
    expect(() => authorityOptions({ AZURE_AUTHORITY_HOST: 'not a url' })).toThrow(/is not a URL/);
  });
});

describe('credential errors and auto', () => {
  it('keep Entra’s AADSTS message and drop its trace, correlation and timestamp', () => {
    const msal = 'ClientSecretCredential authentication failed: invalid_client: Error(s): 7000215 - Timestamp: 2026-01-01 00:00:00Z - Description: AADSTS7000215: Invalid client secret provided. Ensure the secret is right. Trace ID: 1 Correlation ID: 2 Timestamp: 3 - Correlation ID: 2 - Trace ID: 1';
    expect(credentialMessage(new Error(msal))).toBe('AADSTS7000215: Invalid client secret provided. Ensure the secret is right.');
    expect(credentialMessage(new Error("Please run 'az login' to set up an account.\nmore"))).toBe("Please run 'az login' to set up an account.");
  });

  it('auto picks from the environment in a fixed order', () => {
    expect(autoMethod({ AZURE_CLIENT_SECRET: 'x', ACTIONS_ID_TOKEN_REQUEST_URL: 'u' })).toBe('secret');
    expect(autoMethod({ AZURE_CLIENT_CERTIFICATE_PATH: 'p' })).toBe('certificate');
    expect(autoMethod({ AZURE_FEDERATED_TOKEN_FILE: 'f', IDENTITY_ENDPOINT: 'e' })).toBe('workload-identity');
    expect(autoMethod({ ACTIONS_ID_TOKEN_REQUEST_URL: 'u' })).toBe('github-oidc');
    expect(autoMethod({ AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: 'c', SYSTEM_OIDCREQUESTURI: 'u' })).toBe('azure-pipelines');
    expect(autoMethod({ AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: 'c' })).toBe('azure-cli');
    expect(autoMethod({ IDENTITY_ENDPOINT: 'http://127.0.0.1:1/msi/token' })).toBe('managed-identity');
    expect(autoMethod({})).toBe('azure-cli');
  });
});

describe('the Microsoft authorities', () => {
  it("hold every host of @azure/identity's AzureAuthorityHosts", async () => {
    const { AzureAuthorityHosts } = await import('@azure/identity');
    const { MICROSOFT_AUTHORITIES } = await import('../../reconciler/auth/tokens.js');
    for (const h of Object.values(AzureAuthorityHosts)) expect(MICROSOFT_AUTHORITIES.has(new URL(h).host), h).toBe(true);
  });
});
