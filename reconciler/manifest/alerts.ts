import { z } from 'zod';

/**
 * Where findings of controls in `alert` mode are delivered (`posture drift --deliver-alerts`). A
 * destination names the environment variable that holds its webhook URL, never the URL: the URL
 * is a secret (anyone holding it can post to the channel), so it is read from the environment of
 * the run and never written to the manifest, the plan, a report, a log or the evidence trail.
 */

/** The kinds of destination: a Microsoft Teams Workflows webhook (Adaptive Card), a Slack incoming webhook, a generic JSON webhook. */
export const ALERT_DESTINATION_KINDS = ['teams', 'slack', 'webhook'] as const;
export type AlertDestinationKind = (typeof ALERT_DESTINATION_KINDS)[number];

/** An environment variable name as POSIX shells accept one. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const alertDestinationSchema = z
  .object({
    kind: z.enum(ALERT_DESTINATION_KINDS),
    /** The environment variable that holds the webhook URL, e.g. `POSTURE_TEAMS_WEBHOOK`. */
    urlFromEnv: z.string().regex(ENV_NAME, 'must be the name of an environment variable (letters, digits and _), not a URL'),
    /** Only findings of these controls (unversioned ids, e.g. `MAIL.FWD.4`); absent: every control in alert mode. */
    controls: z.array(z.string().regex(/^[A-Z]+\.[A-Z]+\.[0-9]+$/, 'must be a control id such as MAIL.FWD.4')).min(1, 'name at least one control, or leave controls out').optional(),
  })
  .strict();

export const alertsSchema = z
  .object({
    /** Every destination receives each alert its `controls` admit, once per finding. */
    destinations: z.array(alertDestinationSchema).min(1, 'declare at least one destination'),
  })
  .strict();

export type AlertDestination = z.infer<typeof alertDestinationSchema>;
export type AlertsPolicy = z.infer<typeof alertsSchema>;
