/**
 * The OPATH filter subset that `Get-Mailbox -Filter` takes here: comparisons of a property with
 * `-eq`, `-ne` or `-like` against `$null`, `$true`, `$false` or a quoted string, combined with `-and`,
 * `-or` and parentheses. Anything else is refused with the message Exchange gives.
 */
export type Predicate = (item: Record<string, unknown>) => boolean;

export class FilterSyntaxError extends Error {}

export function parseOpath(text: string): Predicate {
  const tokens = text.match(/\(|\)|-and\b|-or\b|-eq\b|-ne\b|-like\b|\$null|\$true|\$false|'(?:[^']|'')*'|"(?:[^"]|"")*"|[A-Za-z][A-Za-z0-9]*|\S+/gi) ?? [];
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
    if (op !== '-eq' && op !== '-ne' && op !== '-like') fail();
    const raw = tokens[i++];
    if (raw === undefined) fail();
    const value = literal(raw!);
    const get = (x: Record<string, unknown>) => {
      const key = Object.keys(x).find((k) => k.toLowerCase() === prop!.toLowerCase());
      const v = key === undefined ? null : x[key];
      return v === undefined || v === '' ? null : v;
    };
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
