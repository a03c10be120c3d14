import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Op } from './ops.js';
import type { LayerSpec } from './layers.js';
import type { TreeEntry } from './tree.js';

/** The catalog: ../shared/overlay-catalog from the repository root, or OVERLAY_CATALOG. */
export const catalogDir = process.env.OVERLAY_CATALOG ?? fileURLToPath(new URL('../../../../../shared/overlay-catalog/', import.meta.url));

export interface Scenario {
  name: string;
  description: string;
  layers: (LayerSpec | { oci_tar: string })[];
  ops: Op[];
  mount_options?: string[];
  as_uid?: number;
}

export interface KernelOp {
  i: number;
  op: string;
  ok: boolean;
  errno?: string;
  result?: Record<string, unknown>;
}

export interface Expected {
  ops?: KernelOp[];
  merged?: TreeEntry[];
  changes?: [string, string][];
  mount_error?: string;
}

export function scenarioNames(): string[] {
  return readdirSync(`${catalogDir}/scenarios`).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

export function loadCase(name: string): { scenario: Scenario; expected: Expected } {
  return {
    scenario: JSON.parse(readFileSync(`${catalogDir}/scenarios/${name}.json`, 'utf8')) as Scenario,
    expected: JSON.parse(readFileSync(`${catalogDir}/expected/${name}.json`, 'utf8')) as Expected,
  };
}
