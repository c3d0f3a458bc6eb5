import { describe, expect, it } from 'vitest';
import { importEdges, layerViolations, runtimeCycles, SRC_DIR, type ImportEdge } from '../helpers/layers';

describe('layers of src/ (ARCHITECTURE.md)', () => {
  const edges = importEdges(SRC_DIR);

  it('reads the import graph', () => {
    // A parser that found nothing would pass every rule below.
    expect(edges.length).toBeGreaterThan(100);
    expect(edges).toContainEqual({ from: 'collector', to: 'ring/reader', typeOnly: false });
  });

  it('no module imports from a higher layer', () => {
    expect(layerViolations(edges)).toEqual([]);
  });

  it('no cycle among modules at run time', () => {
    expect(runtimeCycles(edges)).toEqual([]);
  });

  it('the checks find what they look for', () => {
    const bad: ImportEdge[] = [
      { from: 'packet/decode', to: 'ecs/packet', typeOnly: true },
      { from: 'ecs/a', to: 'ecs/b', typeOnly: false },
      { from: 'ecs/b', to: 'ecs/a', typeOnly: false },
      { from: 'ecs/c', to: 'ecs/d', typeOnly: true },
      { from: 'ecs/d', to: 'ecs/c', typeOnly: false },
      { from: 'newdir/x', to: 'packet/decode', typeOnly: false },
    ];
    expect(layerViolations(bad)).toEqual([
      'packet/decode (packet, layer 0) imports ecs/packet (ecs, layer 4)',
      'newdir/x: its group newdir has no layer',
    ]);
    expect(runtimeCycles(bad)).toEqual([['ecs/a', 'ecs/b', 'ecs/a']]);
  });
});
