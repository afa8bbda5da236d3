import { z } from 'zod';

/**
 * Value formats shared by the posture manifest schema and by the constructs' validation at synth,
 * so the two can never disagree about what a valid domain, UPN, GUID or date is.
 */

/** A DNS domain name with at least two labels, lower case (mail domains are case-insensitive). */
export const domainName = z
  .hostname({ message: 'must be a DNS domain name such as contoso.example' })
  .refine((s) => s.includes('.') && s.length <= 253 && !s.endsWith('.'), 'must be a fully qualified domain name such as contoso.example')
  .refine((s) => s === s.toLowerCase(), 'must be lower case');

/** A userPrincipalName or a mail address (the two share the addr-spec form). */
export const upn = z.email({ message: 'must be a user principal name or mail address such as alex@contoso.example' });

/** Where mail may go: a mail address (`payroll@provider.example`) or a whole domain (`provider.example`). */
export const mailDestination = z
  .string()
  .refine((v) => upn.safeParse(v).success || domainName.safeParse(v).success, 'must be a mail address such as statements@provider.example or a lower-case domain such as provider.example');

/** An Entra object id or role template id. */
export const guid = z.guid({ message: 'must be a GUID such as 62e90394-69f5-4237-9190-012177145e10' });

/** A calendar date, YYYY-MM-DD. */
export const isoDate = z.iso.date({ message: 'must be a calendar date in the form YYYY-MM-DD' });

/** `mailto:` URI for DMARC reports (RFC 7489 §6.2), optionally with a size limit `!10m`. */
export const mailtoUri = z
  .string()
  .regex(/^mailto:[^\s@,;!]+@[^\s@,;!]+(![0-9]+[kmgt]?)?$/i, 'must be a mailto: URI such as mailto:dmarc@contoso.example');

/** Is `value` a valid instance of `schema`? Returns the first message when it is not. */
export function formatError(schema: z.ZodType, value: unknown): string | undefined {
  const r = schema.safeParse(value);
  return r.success ? undefined : (r.error.issues[0]?.message ?? 'is invalid');
}
