import { describe, expect, it } from 'vitest';
import { addressOf, Recipients } from '../../reconciler/checks/recipients.js';

/** The address as the one pattern reads it, for every form: what the plain forms' shortcut must agree with. */
const byPattern = (value: string): string | undefined => {
  const m = /([^\s<>"[\]:]+@[^\s<>"[\]]+?)\]?>?$/.exec(value.trim());
  return m ? m[1]!.toLowerCase().replace(/[>\]]+$/, '') : undefined;
};

describe('addressOf', () => {
  it('reads each form Exchange and Graph write an address in', () => {
    expect(addressOf('smtp:Ann@Contoso.example')).toBe('ann@contoso.example');
    expect(addressOf('SMTP:ann@contoso.example')).toBe('ann@contoso.example');
    expect(addressOf('"Ann" [SMTP:ann@contoso.example]')).toBe('ann@contoso.example');
    expect(addressOf('Ann <ann@contoso.example>')).toBe('ann@contoso.example');
    expect(addressOf('  ann@contoso.example ')).toBe('ann@contoso.example');
    expect(addressOf('ann')).toBeUndefined();
    expect(addressOf('ann@')).toBeUndefined();
    expect(addressOf('@contoso.example')).toBeUndefined();
    expect(addressOf('smtp:@contoso.example')).toBeUndefined();
  });

  it('agrees with the full pattern on every string of a corpus of awkward characters', () => {
    const alphabet = ['a', 'B', '@', ':', ' ', '\u00a0', '<', '>', '"', '[', ']', '.', 'smtp:', 'x@y'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 200_000; i++) {
      let s = '';
      for (let n = next() % 9; n >= 0; n--) s += alphabet[next() % alphabet.length];
      expect(addressOf(s), JSON.stringify(s)).toBe(byPattern(s));
    }
  });
});

describe('Recipients', () => {
  it('resolves a mailbox by any of its identities or addresses, and an unknown address by its domain', () => {
    const r = new Recipients(new Set(['contoso.example']), {
      mailboxes: [{ Identity: 'Ann Lee', Name: 'ann', Alias: 'ann', UserPrincipalName: 'ann@contoso.example', PrimarySmtpAddress: 'ann@contoso.example', EmailAddresses: ['SMTP:ann@contoso.example', 'smtp:a.lee@contoso.example'] }],
      mailContacts: [{ Name: 'Payroll Desk', ExternalEmailAddress: 'SMTP:payroll@outside.example' }],
    });
    expect(r.resolve('ANN')?.address).toBe('ann@contoso.example');
    expect(r.resolve('ann lee')?.address).toBe('ann@contoso.example');
    expect(r.resolve('smtp:A.Lee@contoso.example')).toMatchObject({ external: false, address: 'ann@contoso.example' });
    expect(r.resolve('Payroll Desk')).toMatchObject({ external: true, address: 'payroll@outside.example' });
    expect(r.resolve('someone@elsewhere.example')).toEqual({ external: true, address: 'someone@elsewhere.example' });
    expect(r.resolve('nobody')).toBeUndefined();
  });
});
