import { checkCompatibility, type CompatibilityLevel } from './compatibility';
import {
  CompatibilityTooWeakError,
  IncompatibleSchemaError,
  SchemaNotRegisteredError,
  type IncompatibleVersion,
} from './errors';
import type { SchemaRegistryClient } from './registry-client';

export interface SchemaEnforcementOptions {
  registry: SchemaRegistryClient;
  /** The level every subject must have (or a stronger one). */
  requiredCompatibility: CompatibilityLevel;
  /** Accept subjects configured weaker than required. Off by default: an explicit opt-out. */
  allowWeakerCompatibility: boolean;
  /** Register schemas at runtime. Production deploys register ahead (`evkit schemas register`) and turn this off. */
  autoRegister: boolean;
}

export interface SchemaEnforcer {
  /**
   * The schema id to publish `schema` under `subject` with, once the subject's compatibility is
   * strong enough and the schema is compatible with the versions that level covers. Cached per
   * subject and schema: concurrent first uses share one check, later uses cost no request.
   */
  schemaIdFor(subject: string, schema: string): Promise<number>;
}

function directions(level: CompatibilityLevel): { backward: boolean; forward: boolean; transitive: boolean } {
  return {
    backward: level.startsWith('BACKWARD') || level.startsWith('FULL'),
    forward: level.startsWith('FORWARD') || level.startsWith('FULL'),
    transitive: level.endsWith('_TRANSITIVE'),
  };
}

/** True when a subject at `actual` guarantees at least what `required` does. */
export function satisfiesCompatibility(actual: CompatibilityLevel, required: CompatibilityLevel): boolean {
  const has = directions(actual);
  const needs = directions(required);
  return (!needs.backward || has.backward) && (!needs.forward || has.forward) && (!needs.transitive || has.transitive);
}

export function createSchemaEnforcer(options: SchemaEnforcementOptions): SchemaEnforcer {
  const { registry } = options;
  const resolved = new Map<string, Promise<number>>();

  const levelInForce = async (subject: string): Promise<CompatibilityLevel> => {
    const own = await registry.subjectCompatibility(subject);
    if (own !== undefined) return own;
    if (!options.autoRegister) return registry.globalCompatibility();
    // A new subject gets the required level of its own, so a later change of the global
    // default cannot weaken it. A registry that refuses a level for a subject without versions
    // gets it with the first registration (register() passes the level on).
    await registry.setSubjectCompatibility(subject, options.requiredCompatibility);
    return options.requiredCompatibility;
  };

  const reasonsAgainst = async (subject: string, version: number, schema: string, level: CompatibilityLevel) => {
    const existing = await registry.schemaAt(subject, version);
    const single = level.replace('_TRANSITIVE', '') as CompatibilityLevel;
    return checkCompatibility({ candidate: schema, existing: [{ version, schema: existing }], level: single }).violations.map(
      (v) => `${v.path}: ${v.reason}`,
    );
  };

  const enforce = async (subject: string, schema: string): Promise<number> => {
    const level = await levelInForce(subject);
    if (!satisfiesCompatibility(level, options.requiredCompatibility) && !options.allowWeakerCompatibility) {
      throw new CompatibilityTooWeakError(
        `subject '${subject}' is at ${level}, weaker than the required ${options.requiredCompatibility}; ` +
          `raise it (PUT /config/${subject}) or opt out with allowWeakerCompatibility: true`,
      );
    }
    const existingId = await registry.lookup(subject, schema);
    if (existingId !== undefined) return existingId;

    const versions = await registry.versions(subject);
    const covered = level === 'NONE' ? [] : directions(level).transitive ? versions : versions.slice(-1);
    const verdicts = await Promise.all(covered.map(async (v) => [v, await registry.isCompatibleWith(subject, v, schema)] as const));
    const broken: IncompatibleVersion[] = [];
    for (const [version, compatible] of verdicts) {
      if (!compatible) broken.push({ version, reasons: await reasonsAgainst(subject, version, schema, level) });
    }
    if (broken.length > 0) throw new IncompatibleSchemaError(subject, level, broken);

    if (!options.autoRegister) {
      throw new SchemaNotRegisteredError(
        `the schema is not registered under subject '${subject}' and runtime registration is off; ` +
          'register it in the deploy step (evkit schemas register)',
      );
    }
    return registry.register(subject, schema, level);
  };

  return {
    schemaIdFor(subject, schema) {
      const key = `${subject}\u0000${schema}`;
      let pending = resolved.get(key);
      if (!pending) {
        pending = enforce(subject, schema);
        resolved.set(key, pending);
        // A failure is not cached: the subject may be fixed, or the registry come back.
        pending.catch(() => resolved.delete(key));
      }
      return pending;
    },
  };
}
