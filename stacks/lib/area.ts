import { Construct } from 'constructs';
import { z } from 'zod';
import { controlsForArea, resolveControl, versionedId } from '../../policies/catalogue.js';
import type { Control, ControlArea } from '../../policies/types.js';
import type { ControlEntry, ControlMode, DesiredState, Owner, SourceLocation } from '../../reconciler/manifest/schema.js';
import { EmailSecurityPosture, checkOwner } from './posture.js';
import { checkShape, validateWith, type Problems } from './problems.js';
import { controlMode, ownerProps, props, type PropsSchema, type Shape } from './prop-schemas.js';
import { captureDeclaration } from './source.js';

/** Owner and mode of one control, overriding the area's. */
export interface ControlSettings {
  readonly owner?: Owner;
  readonly mode?: ControlMode;
}

/** Props every area construct takes. */
export interface PostureAreaProps {
  /**
   * Accountable owner of every control in this area, unless `controls` names another. A control
   * left without an owner fails synth.
   */
  readonly owner?: Owner;
  /** Mode of this area's controls. @default the posture's defaultMode ('report') */
  readonly mode?: ControlMode;
  /** Per-control owner and mode, keyed by control id (`MAIL.FWD.4` or `MAIL.FWD.4v1`). */
  readonly controls?: Readonly<Record<string, ControlSettings>>;
}

/**
 * Base of the area constructs. Holds the owner and mode of the area's catalogue controls and
 * contributes the area's part of the desired state to the manifest.
 */
export abstract class PostureArea extends Construct {
  readonly posture: EmailSecurityPosture;
  readonly area: ControlArea;
  private readonly areaProps: PostureAreaProps;
  /** Whether the props match their schema (no unknown property, enum value or type is wrong). */
  protected readonly propsMatchSchema: boolean;
  /** Where the posture's code declares this area (file relative to the folder of cdktf.json, line), when known. */
  readonly source: SourceLocation | undefined;

  protected constructor(scope: EmailSecurityPosture, id: string, area: ControlArea, props: PostureAreaProps, schema: PropsSchema) {
    super(scope, id);
    this.source = captureDeclaration();
    this.posture = EmailSecurityPosture.of(scope);
    this.area = area;
    this.areaProps = props;
    this.propsMatchSchema = checkShape(schema, props).problems.length === 0;
    this.posture.registerArea(this);
    validateWith(this, (p) => {
      // The area's own checks rely on the props' types; unknown properties and enum values do not stop them.
      if (!p.props(schema, props)) return;
      this.checkControls(p);
      this.checkProps(p);
    });
  }

  /** The catalogue controls this area declares. */
  get controls(): Control[] {
    return controlsForArea(this.area);
  }

  /** Owner and mode of each of this area's controls, for the manifest. */
  controlEntries(): ControlEntry[] {
    return this.controls.map((c) => {
      const s = this.settingsFor(c);
      return { id: versionedId(c), mode: s.mode, owner: s.owner!, declaredBy: this.node.path, ...(this.source ? { source: this.source } : {}) };
    });
  }

  /** The mode a control of this area runs in. */
  modeOf(controlId: string): ControlMode {
    const c = this.controls.find((k) => k.id === controlId);
    return c ? this.settingsFor(c).mode : this.posture.defaultMode;
  }

  /** This area's part of the desired state. */
  abstract desiredState(): Partial<DesiredState>;

  /** Area-specific validation; every problem names the property. */
  protected abstract checkProps(p: Problems): void;

  private settingsFor(c: Control): { owner: Owner | undefined; mode: ControlMode } {
    const override = Object.entries(this.areaProps.controls ?? {}).find(([ref]) => {
      const r = resolveControl(ref);
      return 'control' in r && r.control.id === c.id;
    })?.[1];
    return {
      owner: override?.owner ?? this.areaProps.owner,
      mode: override?.mode ?? this.areaProps.mode ?? this.posture.defaultMode,
    };
  }

  private checkControls(p: Problems): void {
    for (const [ref, settings] of Object.entries(this.areaProps.controls ?? {})) {
      const r = resolveControl(ref);
      if ('error' in r) p.add(`controls["${ref}"]`, r.error);
      else if (r.control.area !== this.area) {
        p.add(`controls["${ref}"]`, `${r.control.id} belongs to area "${r.control.area}", not "${this.area}"`);
      } else if (settings.owner) checkOwner(p, `controls["${ref}"].owner`, settings.owner);
    }
    if (this.areaProps.owner) checkOwner(p, 'owner', this.areaProps.owner);
    const ownerless = this.controls.filter((c) => !this.settingsFor(c).owner).map(versionedId);
    if (ownerless.length) {
      p.add('owner', `is required: ${ownerless.join(', ')} ${ownerless.length === 1 ? 'has' : 'have'} no accountable owner (set owner, or controls[id].owner)`);
    }
    for (const c of this.controls) {
      const s = this.settingsFor(c);
      if (s.mode === 'remediate' && !c.remediation.automatic) {
        p.add(
          this.areaProps.controls?.[c.id]?.mode ? `controls["${c.id}"].mode` : 'mode',
          `${versionedId(c)} cannot be remediated automatically (${c.remediation.description}); use report or alert`,
        );
      }
    }
  }
}

/** What every area construct takes, with the area's own properties. */
const controlSettings = props<ControlSettings>({ owner: ownerProps.optional(), mode: controlMode.optional() });

export function areaProps<T extends PostureAreaProps>(own: Shape<Omit<T, keyof PostureAreaProps>>) {
  const area: Shape<PostureAreaProps> = {
    owner: ownerProps.optional(),
    mode: controlMode.optional(),
    controls: z.record(z.string(), controlSettings).optional(),
  };
  return z.strictObject({ ...area, ...own });
}
