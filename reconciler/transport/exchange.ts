import type { Middleware } from '@microsoft/microsoft-graph-client';
import type { TokenProvider } from '../auth/tokens.js';
import { send, type HttpReply } from './http.js';
import type { FetchLike } from './proxy.js';

interface ExchangePage<T> {
  value?: T[];
  '@odata.nextLink'?: string;
  error?: { message?: string; innererror?: { type?: string; message?: string } };
}
import { AuthLink, DEFAULT_RETRY, nextLinkFormProblem, originOf, pipeline, RetryLink, sleep, TimeoutLink, type RetryPolicy, type Sleep, type TransportStats } from './middleware.js';

/**
 * Get-, Set-, Enable- and Disable- cmdlets read or set a state and may be sent again; New-, Remove-
 * and Add- create or remove something and are not sent twice after a lost answer or a 5xx.
 */
export const isIdempotentCmdlet = (cmdlet: string): boolean => !/^(New|Remove|Add)-/i.test(cmdlet);

/** An Exchange cmdlet that failed; `type` is the .NET exception type Exchange reports. */
export class ExchangeError extends Error {
  constructor(
    readonly status: number,
    readonly cmdlet: string,
    readonly type: string,
    readonly detail: string,
  ) {
    super(`${cmdlet}: HTTP ${status}${type ? ` ${type}` : ''}: ${detail}`);
  }
}

export interface ExchangeTransportOptions {
  /** e.g. https://outlook.office365.com, or the simulator's URL. */
  readonly baseUrl: string;
  /** Tenant id or initial domain. */
  readonly tenant: string;
  readonly tokens: TokenProvider;
  readonly retry?: RetryPolicy;
  readonly timeoutMs?: number;
  readonly pageSize?: number;
  readonly sleep?: Sleep;
  /** The fetch requests go out with: `proxyFetch(env)` when a proxy is set; Node's own otherwise. */
  readonly fetch?: FetchLike;
}

const MAX_PAGES = 100_000;

/** The one Exchange Online admin API transport: InvokeCommand with paging. */
export class ExchangeTransport {
  readonly stats: TransportStats = { requests: 0, retries: 0, throttled: 0 };
  private readonly chain: Middleware;
  private readonly endpoint: string;
  private readonly wait: Sleep;

  constructor(private readonly options: ExchangeTransportOptions) {
    this.wait = options.sleep ?? sleep;
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '')}/adminapi/beta/${options.tenant}/InvokeCommand`;
    this.chain = pipeline([
      new RetryLink(options.retry ?? DEFAULT_RETRY, this.stats, this.wait),
      new AuthLink(options.tokens, 'exchange', new URL(this.endpoint).origin),
      new TimeoutLink(options.timeoutMs ?? 60_000),
    ], options.fetch);
  }

  /**
   * Runs a cmdlet and returns every result object. A Get- cmdlet's result is read to its end,
   * following @odata.nextLink (POSTed with the same body); any other cmdlet changes something and
   * is sent once, its answer's nextLink not followed. `onPage` sees each page as it arrives.
   */
  async invoke<T = Record<string, unknown>>(cmdlet: string, parameters: Record<string, unknown> = {}, onPage?: (rows: readonly T[]) => void): Promise<T[]> {
    const body = { CmdletInput: { CmdletName: cmdlet, Parameters: parameters } };
    const headers = { Prefer: `odata.maxpagesize=${this.options.pageSize ?? 1000}` };
    const out: T[] = [];
    const seen = new Set<string>();
    let url: string | undefined = this.endpoint;
    for (let page = 0; url; page++) {
      if (page >= MAX_PAGES) throw new ExchangeError(0, cmdlet, '', `more than ${MAX_PAGES} pages`);
      const reply: HttpReply<ExchangePage<T>> = await send<ExchangePage<T>>(this.chain, 'POST', url, body, headers, this.wait, isIdempotentCmdlet(cmdlet));
      if (reply.status >= 400) {
        const e = reply.body?.error;
        const type = e?.innererror?.type ?? /^\|([^|]+)\|/.exec(e?.message ?? '')?.[1] ?? '';
        const detail = e?.innererror?.message ?? (e?.message ?? '').replace(/^\|[^|]+\|/, '') ?? '';
        throw new ExchangeError(reply.status, cmdlet, type, detail || 'no error message');
      }
      if (!Array.isArray(reply.body?.value)) throw new ExchangeError(reply.status, cmdlet, '', 'the answer has no value array');
      out.push(...reply.body.value);
      onPage?.(reply.body.value);
      // Only a Get- cmdlet's result is paged: following a nextLink POSTs the cmdlet again, and a write is sent once.
      const next: unknown = /^Get-/i.test(cmdlet) ? reply.body['@odata.nextLink'] : undefined;
      if (next !== undefined) {
        // The nextLink is POSTed with the token: it must be on the Exchange endpoint itself.
        const problem = nextLinkFormProblem(next);
        if (problem) throw new ExchangeError(reply.status, cmdlet, '', problem);
        const origin = originOf(next as string);
        if (origin !== originOf(this.endpoint)) {
          throw new ExchangeError(reply.status, cmdlet, '', `the service returned a nextLink to ${origin}, which is not the Exchange endpoint ${originOf(this.endpoint)}: the token is never sent there, and the result is not complete`);
        }
        if (seen.has(next as string) || next === url) throw new ExchangeError(reply.status, cmdlet, '', 'the service returned a nextLink that leads back to a page already read');
        seen.add(next as string);
      }
      url = next as string | undefined;
    }
    return out;
  }
}
