/**
 * The OPATH filter subset that `Get-Mailbox -Filter` takes here: comparisons of a property with
 * `-eq`, `-ne` or `-like` against `$null`, `$true`, `$false` or a quoted string, and `-gt`, `-ge`,
 * `-lt`, `-le` of a date property (WhenChanged, WhenCreated) against a quoted date, combined with
 * `-and`, `-or` and parentheses. Anything else is refused with the message Exchange gives.
 *
 * A date is ISO 8601 (`2026-11-16T09:00:00Z`, `2026-11-16`) or the en-US form Exchange prints
 * (`11/16/2026 09:00:00`); one without a zone is taken as UTC, the zone the service keeps.
 */
export type Predicate = (item: Record<string, unknown>) => boolean;

export class FilterSyntaxError extends Error {}

export function parseOpath(text: string): Predicate {
  const tokens = text.match(/\(|\)|-and\b|-or\b|-eq\b|-ne\b|-like\b|-gt\b|-ge\b|-lt\b|-le\b|\$null|\$true|\$false|'(?:[^']|'')*'|"(?:[^"]|"")*"|[A-Za-z][A-Za-z0-9]*|\S+/gi) ?? [];
  let i = 0;
  const peek = () => tokens[i]?.toLowerCase();
  const fail = (): never => {
    throw new FilterSyntaxError(`Invalid filter syntax. For a description of the filter parameter syntax see the command help. "${text}" at position ${i + 1}.`);
  };

  function expr(): Predicate {
    let left = term();
    while (peek() === '-and' || peek() === '-or') {
      const op = tokens[i++]!.toLowerCase();
      const right = term();
      const l = left;
      left = op === '-and' ? (x) => l(x) && right(x) : (x) => l(x) || right(x);
    }
    return left;
  }

  function term(): Predicate {
    if (peek() === '(') {
      i++;
      const inner = expr();
      if (peek() !== ')') fail();
      i++;
      return inner;
    }
    const prop = tokens[i++];
    if (!prop || !/^[A-Za-z]/.test(prop)) fail();
    const op = tokens[i++]?.toLowerCase();
    if (op !== '-eq' && op !== '-ne' && op !== '-like' && op !== '-gt' && op !== '-ge' && op !== '-lt' && op !== '-le') fail();
    const raw = tokens[i++];
    if (raw === undefined) fail();
    const value = literal(raw!);
    const get = (x: Record<string, unknown>) => {
      const key = Object.keys(x).find((k) => k.toLowerCase() === prop!.toLowerCase());
      const v = key === undefined ? null : x[key];
      return v === undefined || v === '' ? null : v;
    };
    if (op === '-gt' || op === '-ge' || op === '-lt' || op === '-le') {
      const bound = typeof value === 'string' ? parseDate(value) : undefined;
      if (bound === undefined) {
        throw new FilterSyntaxError(`The value "${String(value)}" could not be converted to type System.DateTime. "${text}" at position ${i}.`);
      }
      return (x) => {
        const v = get(x);
        const at = typeof v === 'string' ? parseDate(v) : undefined;
        if (at === undefined) return false;
        return op === '-gt' ? at > bound : op === '-ge' ? at >= bound : op === '-lt' ? at < bound : at <= bound;
      };
    }
    if (op === '-like') {
      const re = new RegExp(`^${String(value).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
      return (x) => re.test(String(get(x) ?? ''));
    }
    const eq = (x: Record<string, unknown>) => {
      const v = get(x);
      if (value === null) return v === null;
      return typeof v === 'string' && typeof value === 'string' ? v.toLowerCase() === value.toLowerCase() : v === value;
    };
    return op === '-eq' ? eq : (x) => !eq(x);
  }

  function literal(raw: string): string | boolean | null {
    const l = raw.toLowerCase();
    if (l === '$null') return null;
    if (l === '$true') return true;
    if (l === '$false') return false;
    if (/^'.*'$/.test(raw)) return raw.slice(1, -1).replace(/''/g, "'");
    if (/^".*"$/.test(raw)) return raw.slice(1, -1).replace(/""/g, '"');
    return fail();
  }

  const predicate = expr();
  if (i !== tokens.length) fail();
  return predicate;
}

/** A date as a filter or an object gives it, in ms since the epoch; undefined when it is not one. */
export function parseDate(text: string): number | undefined {
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*(AM|PM))?)?$/i.exec(text.trim());
  if (us) {
    let hour = Number(us[4] ?? 0);
    const half = us[7]?.toUpperCase();
    if (half === 'PM' && hour < 12) hour += 12;
    if (half === 'AM' && hour === 12) hour = 0;
    const ms = Date.UTC(Number(us[3]), Number(us[1]) - 1, Number(us[2]), hour, Number(us[5] ?? 0), Number(us[6] ?? 0));
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) return undefined;
  const iso = text.trim().replace(' ', 'T');
  const ms = Date.parse(/T/.test(iso) && !/(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? `${iso}Z` : iso);
  return Number.isNaN(ms) ? undefined : ms;
}
