import type { Evaluation } from '../evaluate/context.js';
import { patchFrom } from '../evaluate/normalise.js';

type Obj = Record<string, unknown>;

/** MAIL.INBOUND.1–3: anti-phishing honours DMARC, and nothing bypasses filtering undeclared. */
export function checkInbound(ev: Evaluation): void {
  const d = ev.manifest.desired.inbound;
  if (!d) return;
  const ap = ev.need<[Obj[]]>('MAIL.INBOUND.1', ['antiPhishPolicy']);
  if (ap && ev.live.antiPhish?.ok) {
    for (const p of ap[0]) {
      if (p['Enabled'] === false) continue;
      const live = { HonorDmarcPolicy: p['HonorDmarcPolicy'], DmarcRejectAction: p['DmarcRejectAction'], DmarcQuarantineAction: p['DmarcQuarantineAction'] };
      const want = { HonorDmarcPolicy: true, DmarcRejectAction: d.antiPhish.dmarcRejectAction, DmarcQuarantineAction: d.antiPhish.dmarcQuarantineAction };
      const lower = (o: Obj) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? v.toLowerCase() : v]));
      if (patchFrom(lower(live), lower(want)).length === 0) continue;
      const name = String(p['Identity'] ?? p['Name']);
      ev.add({
        control: 'MAIL.INBOUND.1', check: live.HonorDmarcPolicy === true ? 'antiphish-dmarc-actions' : 'antiphish-honor-dmarc', resource: { type: 'antiPhishPolicy', id: String(p['Guid'] ?? name), name },
        status: 'drift', action: 'update', patch: patchFrom(live, want),
        summary: live.HonorDmarcPolicy === true ? `Anti-phishing policy "${name}" handles DMARC failures differently from the posture.` : `Anti-phishing policy "${name}" does not honour the sender's DMARC policy.`,
        evidence: { endpoint: 'Exchange Get-AntiPhishPolicy', readAt: ev.live.antiPhish.readAt, live },
        scopes: [{ type: 'policy', value: name }],
      });
    }
  }

  const got = ev.need<[Obj[], Obj[], Obj[]]>('MAIL.INBOUND.2', [
    'transportRule',
    'hostedContentFilterPolicy',
    'hostedContentFilterRule',
  ]);
  if (got && ev.live.transportRules?.ok && ev.live.contentFilter?.ok) {
    const dormant = dormantSpamPolicy(got[2]);
    for (const r of got[0]) {
      if (String(r['State']).toLowerCase() !== 'enabled' || Number(r['SetSCL']) !== -1 || r['SetSCL'] === null) continue;
      const name = String(r['Name'] ?? r['Identity']);
      ev.add({
        control: 'MAIL.INBOUND.2', check: 'transport-rule-scl-bypass', resource: { type: 'transportRule', id: String(r['Guid'] ?? name), name },
        status: 'violation', action: 'update', patch: [{ op: 'replace', path: '/State', value: 'Disabled' }],
        summary: `Transport rule "${name}" sets SCL -1: matching mail skips spam, spoof and DMARC filtering.`,
        evidence: { endpoint: 'Exchange Get-TransportRule', readAt: ev.live.transportRules.readAt, live: { Name: name, State: r['State'], SetSCL: r['SetSCL'], SenderDomainIs: r['SenderDomainIs'] ?? null } },
        scopes: [{ type: 'rule', value: name }],
      });
    }
    for (const p of got[1]) {
      const name = String(p['Identity'] ?? p['Name']);
      const asleep = dormant(p);
      for (const [field, kind] of [['AllowedSenderDomains', 'domain'], ['AllowedSenders', 'user']] as const) {
        for (const value of ((p[field] as string[] | null) ?? [])) {
          ev.add({
            control: 'MAIL.INBOUND.2', check: 'allow-list-bypass', resource: { type: 'hostedContentFilterPolicy', id: String(p['Guid'] ?? name), name: `${name}: ${field} ${value}` },
            key: `${name}/${field}/${value}`, status: 'violation', action: 'none',
            summary: `Spam filter policy "${name}" allow-lists ${value}: its mail bypasses spam filtering, and spoofed mail claiming it can too.${asleep ? ` The policy applies to nobody now (${asleep}), but enabling a rule makes the entry live.` : ''}`,
            evidence: { endpoint: 'Exchange Get-HostedContentFilterPolicy', readAt: ev.live.contentFilter.readAt, live: { Identity: name, [field]: p[field], ...(asleep ? { appliesToNobody: asleep } : {}) } },
            remediation: `Remove ${value} from ${field} of "${name}"; use the Tenant Allow/Block List with an expiry if an allow is truly needed.`,
            scopes: [{ type: kind === 'domain' ? 'domain' : 'rule', value: kind === 'domain' ? value : `${name}/${value}` }],
          });
        }
      }
    }
  }

  checkConnectionFilter(ev);
}

/**
 * Why a custom spam filter policy applies to nobody (no rule, or only disabled ones), or undefined
 * when it may apply to someone. The default policy and the presets' always may.
 */
function dormantSpamPolicy(rules: readonly Obj[]): (p: Obj) => string | undefined {
  return (p) => {
    if (p['IsDefault'] === true || /^(standard|strict)$/i.test(String(p['RecommendedPolicyType'] ?? ''))) return undefined;
    const names = [p['Name'], p['Identity']].filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase());
    const mine = rules.filter((r) => names.includes(String(r['HostedContentFilterPolicy'] ?? '').toLowerCase()));
    if (!mine.length) return 'no rule applies it';
    return mine.some((r) => String(r['State']).toLowerCase() === 'enabled') ? undefined : `its rule "${String(mine[0]!['Name'] ?? mine[0]!['Identity'])}" is disabled`;
  };
}

/**
 * MAIL.INBOUND.3: the connection filter lets no IP range skip filtering (IPAllowList) and the safe
 * list is off. An exception scoped to `<policy>/<entry>` keeps one entry; remediation removes the rest.
 */
function checkConnectionFilter(ev: Evaluation): void {
  const got = ev.need<[Obj[]]>('MAIL.INBOUND.3', ['hostedConnectionFilterPolicy']);
  if (!got || !ev.live.connectionFilter?.ok) return;
  const { readAt } = ev.live.connectionFilter;
  const evidence = (live: Obj) => ({ endpoint: 'Exchange Get-HostedConnectionFilterPolicy', readAt, live });
  for (const p of got[0]) {
    const name = String(p['Identity'] ?? p['Name']);
    const id = String(p['Guid'] ?? name);
    const list = Array.isArray(p['IPAllowList']) ? (p['IPAllowList'] as unknown[]).map(String) : [];
    const kept: string[] = [];
    const removed: string[] = [];
    for (const entry of list) {
      const scope = { type: 'policy', value: `${name}/${entry}` } as const;
      if (!ev.exceptionInForce('MAIL.INBOUND.3', scope)) {
        removed.push(entry);
        continue;
      }
      kept.push(entry);
      ev.add({
        control: 'MAIL.INBOUND.3', check: 'connection-filter-allow-list', resource: { type: 'hostedConnectionFilterPolicy', id, name: `${name}: IPAllowList ${entry}` },
        key: `${name}/IPAllowList/${entry}`, status: 'violation', action: 'none',
        summary: `Connection filter policy "${name}" allow-lists ${entry}: mail from it skips spam filtering and DMARC.`,
        evidence: evidence({ Identity: name, IPAllowList: list }),
        scopes: [scope],
      });
    }
    if (removed.length) {
      ev.add({
        control: 'MAIL.INBOUND.3', check: 'connection-filter-allow-list', resource: { type: 'hostedConnectionFilterPolicy', id, name },
        key: `${name}/IPAllowList`, status: 'violation', action: 'update',
        patch: [{ op: 'replace', path: '/IPAllowList', value: kept }],
        summary: `Connection filter policy "${name}" allow-lists ${removed.join(', ')}: mail from ${removed.length === 1 ? 'it' : 'them'} skips spam filtering, DMARC's verdict included.`,
        evidence: evidence({ Identity: name, IPAllowList: list }),
        remediation: `Remove ${removed.join(', ')} from IPAllowList of "${name}"${kept.length ? ` (the exceptions keep ${kept.join(', ')})` : ''}; declare an exception scoped to "${name}/<entry>" for a range that must stay.`,
        scopes: [{ type: 'policy', value: name }],
      });
    }
    if (p['EnableSafeList'] === true) {
      ev.add({
        control: 'MAIL.INBOUND.3', check: 'connection-filter-safe-list', resource: { type: 'hostedConnectionFilterPolicy', id, name },
        key: `${name}/EnableSafeList`, status: 'violation', action: 'update',
        patch: [{ op: 'replace', path: '/EnableSafeList', value: false }],
        summary: `Connection filter policy "${name}" turns on the safe list: mail from the sources Microsoft lists skips spam filtering.`,
        evidence: evidence({ Identity: name, EnableSafeList: true }),
        // The policy, or the safe list alone: an exception to "<policy>/EnableSafeList" does not cover an allow-list entry.
        scopes: [{ type: 'policy', value: name }, { type: 'policy', value: `${name}/EnableSafeList` }],
      });
    }
  }
}
