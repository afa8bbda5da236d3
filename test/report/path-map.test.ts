import { describe, expect, it } from 'vitest';
import { isUnsafeCodePoint } from '../../reconciler/core/text.js';
import type { MappedPath, PathMap } from '../../reconciler/model/paths.js';
import { renderHtml } from '../../reconciler/report/html.js';
import { pathMapHtml } from '../../reconciler/report/path-map.js';
import { driftedPlan, identity, mailPlatform } from './fixtures.js';
import { HOSTILE_CONNECTOR, planWithPaths, tailspinPathMap } from './path-map-fixtures.js';

/** The HTML of one path's drawing, by its key. */
function article(html: string, key: string): string {
  const start = html.indexOf(`data-path="${key}"`);
  expect(start, `no drawing of ${key}`).toBeGreaterThan(-1);
  const end = html.indexOf('</article>', start);
  return html.slice(start, end);
}

/** The chips of a path: failure kind → [outcome, short]. */
function chips(part: string): Record<string, [string, boolean]> {
  const out: Record<string, [string, boolean]> = {};
  for (const m of part.matchAll(/<li class="pm-chip[^"]*" data-kind="([^"]+)" data-outcome="([^"]+)" data-short="(true|false)"/g)) out[m[1]!] = [m[2]!, m[3] === 'true'];
  return out;
}

/** Text of a fragment with its tags as spaces and entities left as they are. */
const text = (part: string): string => part.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ');

describe('pathMapHtml', () => {
  const map = tailspinPathMap();
  const html = pathMapHtml(map);

  it('is one section headed "Inbound paths" with a drawing per path', () => {
    expect(html.startsWith('<section id="inbound-paths"')).toBe(true);
    expect(html).toContain('<h2 id="inbound-paths-title">Inbound paths</h2>');
    expect(html.match(/<article class="pm-path/g)).toHaveLength(3);
    expect(text(html)).toContain('3 paths · 2 short of the posture · 1 under an exception');
  });

  it('shows the evidence period and the unattributed count at the top', () => {
    const top = html.slice(0, html.indexOf('<article'));
    expect(text(top)).toContain('Evidence period 2025-05-03T00:00:00Z to 2025-06-02T00:00:00Z : 1342 inbound messages failed authentication; 17 unattributed');
    expect(top).toContain('class="pm-unattributed"');
    const { evidence: _, ...without } = map;
    expect(pathMapHtml(without)).not.toContain('Evidence period');
  });

  it('draws the Exchange Online Protection path: its MX, no connector, nothing skipped, the outcomes it meets', () => {
    const eop = article(html, 'tailspintoys.example/eop');
    expect(eop).toContain('<code>tailspintoys-example.<wbr>mail.<wbr>protection.<wbr>outlook.<wbr>com</code>');
    expect(text(eop)).toContain('Exchange Online Protection directly');
    expect(text(eop)).toContain('enhanced filtering: not applicable');
    expect(text(eop)).toContain('Skips filtering nothing');
    expect(chips(eop)).toEqual({
      'dmarc-reject': ['reject', false],
      'dmarc-quarantine': ['quarantine', false],
      'spf-hardfail': ['junk', false],
      'compauth-fail': ['junk', false],
    });
    expect(eop).toContain('meets the posture');
    expect(eop).not.toContain('pm-break');
    // Each outcome's reason is visible text, not only a tooltip.
    expect(eop).toMatch(/<details class="pm-why" open>/);
    expect(text(eop)).toContain('DMARC fail, p=reject → reject : anti-phishing policy &quot;Office365 AntiPhish Default&quot; honours DMARC p=reject (DmarcRejectAction Reject)');
    expect(text(eop)).toContain('Observed 1200 failing messages: 1130 rejected 52 quarantined 18 junk 0 inbox 0 delivered despite failure');
    expect(eop).not.toContain('pm-despite"');
  });

  it('draws the gateway without enhanced filtering as a break, every failure short in the inbox with what is required', () => {
    const gw = article(html, 'fabrikam.example/gateway:mx1.gateway.example');
    expect(gw).toContain('<code>mx1.<wbr>gateway.<wbr>example</code>');
    expect(gw).toContain('<code>mx2.<wbr>gateway.<wbr>example</code>');
    expect(gw).toContain('pm-connector pm-break');
    expect(gw).toContain('<span class="pm-badge ef-off">enhanced filtering: off</span>');
    expect(text(gw)).toContain('Break: Exchange Online Protection judges the gateway’s IP, not the sender');
    expect(chips(gw)).toEqual({
      'dmarc-reject': ['inbox', true],
      'dmarc-quarantine': ['inbox', true],
      'spf-hardfail': ['inbox', true],
      'compauth-fail': ['inbox', true],
    });
    expect(text(gw)).toContain('DMARC fail, p=reject inbox short: requires reject');
    expect(text(gw)).toContain('DMARC fail, p=quarantine inbox short: requires quarantine');
    expect(text(gw)).toContain('short on 4 failure kinds');
    // One reason for the four kinds, said once.
    expect(gw.match(/<li><strong>/g)).toHaveLength(1);
    expect(text(gw)).toContain('Every failure kind → inbox : mail arrives through a gateway without enhanced filtering');
    // The SCL -1 rule, named and scoped.
    expect(text(gw)).toContain('Marketing bypass &lt;b&gt;bold&lt;/b&gt; some senders');
    expect(text(gw)).toContain('transport rule, SCL -1: transport rule &quot;Marketing bypass&quot; sets SCL -1');
    expect(text(gw)).toContain('exception MAIL.INBOUND.2:rule:marketing bypass until 2026-09-30');
    expect(text(gw)).toContain('Observed 125 failing messages: 0 rejected 0 quarantined 3 junk 122 inbox 125 delivered despite failure');
    expect(gw).toContain('<strong class="pm-despite">125 delivered despite failure</strong>');
    expect(text(gw)).toContain(`Routing ${mailPlatform.name} ${mailPlatform.team} · ${mailPlatform.contact}`);
    expect(text(gw)).toContain(`Policy ${identity.name}`);
  });

  it('draws the partner path with its missing owner as unowned, its all-mail bypass as a break, and its exception', () => {
    const partner = article(html, '*/partner:Contoso partner');
    expect(text(partner)).toContain('every accepted domain Partner connector');
    expect(text(partner)).toContain('no MX: the partner sends to the connector');
    expect(partner).toContain('pm-bypasses pm-break');
    expect(text(partner)).toContain('Default all mail');
    expect(text(partner)).toContain('skipped for all mail on this path');
    expect(partner).toContain('<div class="unowned"><dt>Policy</dt><dd><span class="pm-unowned">unowned</span></dd></div>');
    expect(partner.match(/pm-unowned/g)).toHaveLength(1);
    expect(text(partner)).toContain(
      'Exception EXC-2025-014 · approved by CISO Office · expires 2025-09-30 · compensating control: Contoso signs every message with DKIM',
    );
    expect(partner).not.toContain('expired');
    expect(partner).not.toContain('Observed');
  });

  it('says an exception has expired', () => {
    const [a, b, partner] = map.paths as [MappedPath, MappedPath, MappedPath];
    const lapsed: PathMap = { paths: [a, b, { ...partner, exception: { ...partner.exception!, inForce: false, compensatingControl: undefined } }] };
    const part = article(pathMapHtml(lapsed), '*/partner:Contoso partner');
    expect(part).toContain('pm-exception expired');
    expect(text(part)).toContain('Exception (expired) EXC-2025-014 · approved by CISO Office · expired 2025-09-30 · no compensating control declared');
  });

  it('draws a missing routing owner and the partial enhanced filtering modes', () => {
    const [, gw] = map.paths as [MappedPath, MappedPath];
    const test: MappedPath = { ...gw, enhancedFiltering: 'test', owners: { objective: gw.owners.objective } };
    const part = pathMapHtml({ paths: [test] });
    expect(part.match(/<span class="pm-unowned">unowned<\/span>/g)).toHaveLength(2);
    expect(part).toContain('<span class="pm-badge ef-partial">enhanced filtering: test</span>');
    expect(text(part)).toContain('Partial: Exchange Online Protection judges the gateway’s IP, not the sender (test mode only)');
    const on = pathMapHtml({ paths: [{ ...gw, enhancedFiltering: 'on' }] });
    expect(on).toContain('<span class="pm-badge ef-on">enhanced filtering: on</span>');
    expect(on).not.toContain('pm-connector pm-break');
  });

  it('says so when there is no path', () => {
    expect(text(pathMapHtml({ paths: [] }))).toContain('No inbound path');
  });

  it('escapes every string of the map: markup is text, control and bidi characters are escapes', () => {
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; From gw\\x07 \\u{202e}gnp.exe');
    const evil = '"><img src=x onerror=alert(1)>\u202e\u0000';
    const hostile: PathMap = {
      evidence: { from: evil, to: evil, failed: 1, unattributed: 0 },
      paths: map.paths.map((p) => ({
        ...p,
        key: evil,
        domain: evil,
        hosts: [evil],
        connector: evil,
        bypasses: [{ kind: 'spoof-allow', name: evil, detail: evil, scope: 'some' }],
        dispositions: Object.fromEntries(Object.entries(p.dispositions).map(([k, d]) => [k, { ...d, because: evil }])) as MappedPath['dispositions'],
        owners: { routing: { name: evil, team: evil, contact: evil }, objective: { name: evil, team: evil, contact: evil } },
        exception: { id: evil, approvedBy: evil, expires: evil, inForce: false, compensatingControl: evil },
      })),
    };
    const out = pathMapHtml(hostile);
    expect(out).not.toMatch(/<img/i);
    // Every real tag is one the drawing writes, with only its own attributes (the escaped text holds no `<` or `"`).
    const tags = [...out.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-z-]+(?:="[^"<>]*")?)*)\s*>/g)];
    expect(out.replace(/<\/?[a-zA-Z][a-zA-Z0-9-]*(?:\s+[a-z-]+(?:="[^"<>]*")?)*\s*>/g, '')).not.toMatch(/[<>"]/);
    const drawn = new Set(['section', 'h2', 'p', 'time', 'span', 'article', 'header', 'h3', 'code', 'div', 'ul', 'li', 'details', 'summary', 'strong', 'dl', 'dt', 'dd', 'wbr']);
    expect(tags.map((t) => t[1]!).filter((t) => !drawn.has(t))).toEqual([]);
    const own = new Set(['id', 'class', 'aria-labelledby', 'datetime', 'data-path', 'aria-hidden', 'data-kind', 'data-outcome', 'data-short', 'title', 'open']);
    expect(tags.flatMap((t) => [...t[2]!.matchAll(/([a-z-]+)(?:="[^"]*")?/g)].map((a) => a[1]!)).filter((a) => !own.has(a))).toEqual([]);
    expect(tags.length).toBeGreaterThan(100);
    expect([...out].filter((ch) => isUnsafeCodePoint(ch.codePointAt(0)!) && ch !== '\n').map((ch) => ch.codePointAt(0)!.toString(16))).toEqual([]);
    expect(out).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\\u{202e}\\x00');
  });
});

describe('the report and the path map', () => {
  it('has no "Inbound paths" section when the plan carries no map', () => {
    const html = renderHtml(driftedPlan());
    expect(html).not.toContain('Inbound paths');
    expect(html).not.toContain('id="inbound-paths"');
  });

  it('places the section after the summary and before the findings', () => {
    const html = renderHtml(planWithPaths(tailspinPathMap()));
    const at = (s: string): number => {
      const i = html.indexOf(s);
      expect(i, s).toBeGreaterThan(-1);
      return i;
    };
    expect(at('<section id="overview"')).toBeLessThan(at('<section id="inbound-paths"'));
    expect(at('<section id="inbound-paths"')).toBeLessThan(at('<form class="filters"'));
    expect(at('<section id="inbound-paths"')).toBeLessThan(at('<section id="by-owner"'));
    expect(html.match(/id="inbound-paths"/g)).toHaveLength(1);
    expect(html).not.toContain(HOSTILE_CONNECTOR);
    // The drawing is styled by classes under the report's one style element: no style attributes, no SVG namespace URL.
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html.match(/<style>/g)).toHaveLength(1);
  });
});

describe('a saved plan is outside input: its map cannot forge markup', () => {
  it('an entry, outcome or count that is not one of ours is escaped or dropped, in HTML and Markdown', async () => {
    const { renderMarkdown } = await import('../../reconciler/report/markdown.js');
    const map = tailspinPathMap();
    const forged = {
      ...map,
      paths: map.paths.map((p, i) =>
        i === 0
          ? ({
              ...p,
              entry: 'eop"><h1>forged</h1><a href="x',
              short: ['dmarc-reject'],
              dispositions: { ...p.dispositions, 'dmarc-reject': { outcome: 'inbox |\n## All clean', because: 'x' } },
              observed: { failed: '1 |\n## All clean', byOutcome: { reject: 0, quarantine: 0, junk: 0, inbox: 1 }, deliveredDespiteFailure: 1 },
            } as unknown as MappedPath)
          : p,
      ),
    } as PathMap;
    const html = pathMapHtml(forged);
    expect(html).not.toContain('<h1>forged');
    expect(html).toContain('entry-unknown');
    const md = renderMarkdown(planWithPaths(forged));
    expect(md).not.toMatch(/^## All clean/m);
    expect(md.split('\n').filter((l) => l.startsWith('| ') && l.includes('All clean')).every((l) => l.includes('\\|'))).toBe(true);
  });
});
