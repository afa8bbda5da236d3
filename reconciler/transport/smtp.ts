/**
 * Sending one test message by SMTP, straight to an MX host: the probe's only way in that takes the
 * path a stranger's mail takes. nodemailer speaks SMTP (STARTTLS when offered, certificate checked
 * against the MX host's name); this module only says what the session's answer means.
 */
import { createTransport } from 'nodemailer';

export interface SmtpTarget {
  /** The MX exchange, for the TLS name and messages. */
  readonly host: string;
  /** The address it was resolved to. */
  readonly address: string;
  readonly port: number;
  /** The name the probe gives in EHLO. */
  readonly helo: string;
  readonly timeoutMs: number;
}

export interface SmtpMessage {
  /** The From header; the envelope sender is always the null reverse-path. */
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly messageId: string;
  readonly text: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * What the session said:
 * - `accepted`: 250 after DATA; what became of the message is for message trace to tell;
 * - `rejected`: a permanent refusal of the message itself (5xx at MAIL, at the end of DATA, or a
 *   5.7.x policy refusal at RCPT): the path rejected it;
 * - `refused-recipient`: the recipient does not exist (5.1.x at RCPT): the probe is misdeclared;
 * - `failed`: no answer that says either (connection refused or timed out, a 4xx): not a disposition.
 */
export type SmtpOutcome =
  | { readonly kind: 'accepted'; readonly response: string }
  | { readonly kind: 'rejected' | 'refused-recipient' | 'failed'; readonly response: string; readonly code?: number };

interface SmtpError {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
}

/** One message, one connection; never retried (a retry would be a second message). */
export async function sendProbe(target: SmtpTarget, message: SmtpMessage): Promise<SmtpOutcome> {
  const transport = createTransport({
    host: target.address,
    port: target.port,
    secure: false,
    name: target.helo,
    // STARTTLS when the server offers it, verified against the MX host's own name.
    tls: { servername: target.host, rejectUnauthorized: true },
    connectionTimeout: target.timeoutMs,
    greetingTimeout: target.timeoutMs,
    socketTimeout: target.timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  try {
    const info = await transport.sendMail({
      // The null reverse-path: should anything bounce a probe, the bounce goes to nobody (never to
      // the outside domain it spoofs). DMARC still judges the From domain, which fails.
      envelope: { from: '', to: [message.to] },
      from: message.from,
      to: message.to,
      subject: message.subject,
      messageId: message.messageId,
      text: message.text,
      headers: { ...message.headers },
    });
    return { kind: 'accepted', response: String(info.response ?? '') };
  } catch (err) {
    return judgeSmtpError(err as SmtpError);
  } finally {
    transport.close();
  }
}

/**
 * What a failed send means. Only a permanent refusal of the message itself, at the end of DATA
 * (where Exchange Online Protection refuses a DMARC failure: 550 5.7.509), is a disposition. A
 * refusal before the message is read (at the greeting, EHLO, MAIL or RCPT: a blocklisted runner, a
 * relay refused, a HELO not liked) says nothing of what the path does with failing mail: the probe
 * is then not confirmed, never "rejected".
 */
export function judgeSmtpError(e: SmtpError): SmtpOutcome {
  const response = String(e.response ?? e.message ?? 'no answer');
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  if (code === undefined || code < 500) return { kind: 'failed', response, ...(code !== undefined ? { code } : {}) };
  const enhanced = /\b5\.(\d{1,3})\.\d{1,3}\b/.exec(response);
  const atRecipient = /^RCPT/i.test(e.command ?? '');
  if (atRecipient && enhanced?.[1] === '1') return { kind: 'refused-recipient', response, code };
  if (e.command === 'DATA' && e.code === 'EMESSAGE') return { kind: 'rejected', response, code };
  return { kind: 'failed', response, code };
}
