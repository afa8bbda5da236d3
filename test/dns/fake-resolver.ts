import type { TxtResolver } from '../../reconciler/dns/lookup.js';

/** What a name answers: TXT records (each a list of character-strings, or one string), or a DNS error code. */
export type FakeAnswer = Array<string | string[]> | { error: string };

/**
 * An in-memory TXT resolver. Names not in `zone` answer ENOTFOUND (NXDOMAIN). Errors are shaped like
 * node:dns errors (`code`, `hostname`, `syscall`). `asked` records every name queried, in order.
 */
export class FakeResolver implements TxtResolver {
  readonly asked: string[] = [];
  private readonly zone: Map<string, FakeAnswer>;

  constructor(zone: Record<string, FakeAnswer>) {
    this.zone = new Map(Object.entries(zone).map(([k, v]) => [k.toLowerCase(), v]));
  }

  async resolveTxt(name: string): Promise<string[][]> {
    this.asked.push(name);
    const answer = this.zone.get(name.toLowerCase()) ?? { error: 'ENOTFOUND' };
    if (!Array.isArray(answer)) {
      throw Object.assign(new Error(`queryTxt ${answer.error} ${name}`), { code: answer.error, hostname: name, syscall: 'queryTxt' });
    }
    return answer.map((r) => (typeof r === 'string' ? [r] : [...r]));
  }
}
