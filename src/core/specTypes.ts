// The kinds of spec a config key can have (configSpec.ts describes every key with them; config.ts validates and
// configSchema.ts writes the JSON Schema from them).

interface SpecBase {
  /** Markdown; the plain `description` is derived from it. */
  doc: string;
}
export interface NumberSpec extends SpecBase {
  kind: 'number';
  /** null is a value too (meaning "not set"; the doc says what then). */
  nullable?: boolean;
  integer?: boolean;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  /** Used in fix hints when the key has no default. */
  example?: number;
}
export interface BooleanSpec extends SpecBase {
  kind: 'boolean';
}
export interface StringSpec extends SpecBase {
  kind: 'string';
  example: string;
  nullable?: boolean;
}
/** An array of non-empty strings. */
export interface StringListSpec extends SpecBase {
  kind: 'stringList';
  example: string;
}
export interface EnumSpec extends SpecBase {
  kind: 'enum';
  values: readonly string[];
}
/** A [min, max] pair of numbers, each within [minimum, maximum] (or (minimum, maximum] when exclusiveMinimum). */
export interface RangeSpec extends SpecBase {
  kind: 'range';
  minimum: number;
  maximum: number;
  exclusiveMinimum?: boolean;
}
export interface IntegerOrAutoSpec extends SpecBase {
  kind: 'integerOrAuto';
  minimum: number;
}
export type LeafSpec = NumberSpec | BooleanSpec | StringSpec | StringListSpec | EnumSpec | RangeSpec | IntegerOrAutoSpec;

export interface ObjectSpec<T> extends SpecBase {
  kind: 'object';
  fields: { [K in keyof T]-?: SpecFor<NonNullable<T[K]>> };
  required?: readonly (keyof T & string)[];
}
export type SpecFor<V> = V extends readonly unknown[] ? LeafSpec : V extends object ? ObjectSpec<V> : LeafSpec;
/** Untyped view used when walking the tree at run time. */
export type AnySpec = LeafSpec | { kind: 'object'; doc: string; fields: Record<string, AnySpec>; required?: readonly string[] };
