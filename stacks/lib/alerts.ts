import { resolveControl } from '../../policies/catalogue.js';
import { ENV_NAME, type AlertDestinationKind, type AlertsPolicy } from '../../reconciler/manifest/alerts.js';
import type { Problems } from './problems.js';
import { list, oneOf, props, text, texts } from './prop-schemas.js';

/**
 * A place the findings of controls in `alert` mode are delivered to by `posture drift
 * --deliver-alerts` (or `plan --deliver-alerts`), once per finding.
 */
export interface AlertDestinationProps {
  /**
   * `teams`: a Microsoft Teams Workflows webhook ("Post to a channel when a webhook request is
   * received"), sent an Adaptive Card message; `slack`: a Slack incoming webhook; `webhook`: any
   * endpoint that takes the documented JSON alert (README, "Alerts").
   */
  readonly kind: AlertDestinationKind;
  /**
   * The name of the environment variable that holds the webhook URL when the reconciler runs, e.g.
   * `POSTURE_TEAMS_WEBHOOK`. The URL is a secret: never write it in the posture.
   */
  readonly urlFromEnv: string;
  /** Only the findings of these controls (`MAIL.FWD.4` or `MAIL.FWD.4v1`). @default every control in alert mode */
  readonly controls?: readonly string[];
}

/** Where alerts go: every destination receives each alert its `controls` admit. */
export interface AlertsProps {
  readonly destinations: readonly AlertDestinationProps[];
}

export const alertsProps = props<AlertsProps>({
  destinations: list(
    props<AlertDestinationProps>({
      kind: oneOf<AlertDestinationKind>({ teams: true, slack: true, webhook: true }),
      urlFromEnv: text,
      controls: texts,
    }),
  ),
});

/** The root's checks of `alerts`; every problem names the property. A value that may be a URL is never echoed. */
export function checkAlerts(p: Problems, at: string, alerts: AlertsProps | undefined): void {
  if (alerts === undefined) return;
  if (!Array.isArray(alerts.destinations) || alerts.destinations.length === 0) {
    p.add(`${at}.destinations`, 'declare at least one destination { kind, urlFromEnv }, or leave alerts out');
    return;
  }
  const seen = new Map<string, number>();
  alerts.destinations.forEach((d, i) => {
    const here = `${at}.destinations[${i}]`;
    p.required(`${here}.kind`, d.kind);
    if (p.required(`${here}.urlFromEnv`, d.urlFromEnv)) {
      if (/:\/\/|^\s*https?:/i.test(d.urlFromEnv)) {
        p.add(`${here}.urlFromEnv`, 'holds a URL: name the environment variable that holds the webhook URL (e.g. POSTURE_TEAMS_WEBHOOK), never the URL itself, which is a secret');
      } else if (!ENV_NAME.test(d.urlFromEnv)) {
        p.add(`${here}.urlFromEnv`, `${JSON.stringify(d.urlFromEnv)} is not an environment variable name (letters, digits and _, not starting with a digit)`);
      } else {
        const other = seen.get(d.urlFromEnv);
        if (other !== undefined) p.add(`${here}.urlFromEnv`, `${d.urlFromEnv} is already the URL of destinations[${other}]: declare each destination once`);
        else seen.set(d.urlFromEnv, i);
      }
    }
    if (d.controls !== undefined) {
      if (d.controls.length === 0) p.add(`${here}.controls`, 'name at least one control, or leave controls out');
      d.controls.forEach((c: string, j: number) => {
        const resolved = resolveControl(String(c));
        if ('error' in resolved) p.add(`${here}.controls[${j}]`, resolved.error);
      });
    }
  });
}

/** `alerts` in manifest form: control ids unversioned, as findings' `control.id`. */
export function alertsManifest(alerts: AlertsProps): AlertsPolicy {
  return {
    destinations: alerts.destinations.map((d) => ({
      kind: d.kind,
      urlFromEnv: d.urlFromEnv,
      ...(d.controls !== undefined ? { controls: d.controls.map((c) => String(c).replace(/v[0-9]+$/, '')) } : {}),
    })),
  };
}
