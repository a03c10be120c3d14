import type { LayerIndex } from '@strata/store';
import type { OciLayerSpec } from './layers.js';
import type { TestContent } from './layers.js';

/** An OCI-format scenario layer, written as a real tar and imported by the store. */
export async function ociLayer(_spec: OciLayerSpec, _content: TestContent): Promise<LayerIndex> {
  throw new Error('OCI-format layers need the store importer');
}
