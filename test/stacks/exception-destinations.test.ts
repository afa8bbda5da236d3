import { describe, expect, it } from 'vitest';
import { build, declareAll, errorLines, postureProps, TODAY } from './helpers.js';

const exception = (scope: Record<string, unknown>, control = 'MAIL.FWD.3') => ({
  control, scope, reason: 'Statements go to the payroll provider', approvedBy: 'ciso@contoso.example', expires: '2026-08-01', ticket: 'RISK-1',
}) as never;

describe('an exception that pins where the excepted mail may go', () => {
  it('names addresses or domains, lower-cased into the manifest', () => {
    expect(TODAY).toBe('2026-06-01');
    const b = build(declareAll, postureProps({ exceptions: [exception({ type: 'user', value: 'payroll@contoso.example', destinations: ['Payroll-Provider.example', 'desk@agency.example'] })] }));
    expect(errorLines(b)).toEqual([]);
    expect(b.posture.toManifest().exceptions[0]!.scope).toEqual({ type: 'user', value: 'payroll@contoso.example', destinations: ['payroll-provider.example', 'desk@agency.example'] });
  });

  it('is refused on a control whose findings have no destination, when empty, and when a destination is neither an address nor a domain', () => {
    const b = build(declareAll, postureProps({
      exceptions: [
        exception({ type: 'domain', value: 'legacy.contoso.example', destinations: ['x.example'] }, 'MAIL.DMARC.2'),
        exception({ type: 'user', value: 'payroll@contoso.example', destinations: [] }),
        exception({ type: 'rule', value: 'Archive', destinations: ['not a destination'] }, 'MAIL.FWD.5'),
      ],
    }));
    expect(errorLines(b)).toEqual([
      'test/Posture: exceptions[0].scope.destinations: MAIL.DMARC.2 has no destination to pin; leave destinations out',
      'test/Posture: exceptions[1].scope.destinations: name at least one address or domain, or leave destinations out',
      'test/Posture: exceptions[2].scope.destinations[0]: "not a destination" must be a mail address such as statements@provider.example or a lower-case domain such as provider.example',
    ]);
  });
});
