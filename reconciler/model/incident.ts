/**
 * An incident as a response plan shows it and the trail's `response` record keeps it: who, how sure,
 * the signals behind it and what the matrix decided, action by action. The plan refines the types
 * (its tier is a placement, its actions are the matrix's); the trail holds them as read back.
 */
export interface IncidentView<Tier extends string = string, Action extends string = string, Disposition extends string = string> {
  /** Stable: the identity and the first signal that opened it. */
  readonly id: string;
  /** The plan names the display name too; the trail keeps the id and UPN only. */
  readonly identity: { readonly id: string; readonly upn: string; readonly displayName?: string };
  readonly tier: Tier;
  readonly confidence: 'high' | 'medium' | 'low';
  readonly openedAt: string;
  readonly lastSignalAt: string;
  readonly signals: ReadonlyArray<IncidentSignal>;
  readonly actions: ReadonlyArray<IncidentAction<Action, Disposition>>;
}

/** One signal of an incident: where it came from, its version, and the rule that rated it (-1: none, kept because it names a break-glass account). */
export interface IncidentSignal {
  readonly source: string;
  readonly id: string;
  readonly version?: string;
  readonly title: string;
  readonly observedAt: string;
  readonly confidence: 'high' | 'medium' | 'low';
  readonly rule: number;
}

/** One action of an incident: what the matrix said, and how many writes it takes. */
export interface IncidentAction<Action extends string = string, Disposition extends string = string> {
  readonly action: Action;
  readonly disposition: Disposition;
  /** Where the matrix says so: `matrix.highValue.high.automatic`. */
  readonly rule: string;
  /** Set when the circuit breaker held an automatic action back. */
  readonly heldBack?: string;
  /** The `findingId` of its changes (automatic) or approvals. */
  readonly decisionId: string;
  /** How many writes it takes; 0: nothing left to do (already done, or nothing to act on). */
  readonly writes: number;
  /** Who executes it: the owner of its platform (identity, mail, applications), as `name (contact)` (absent in trails of earlier versions). */
  readonly owner?: string;
}
